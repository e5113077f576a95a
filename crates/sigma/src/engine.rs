//! The compiled rule set and single-pass scanning: rules are bucketed by (channel, event id) of
//! their mapped sources, each bucket has one Aho-Corasick automaton per field over the literal
//! needles its rules require, and only rules whose needles occur are evaluated exactly.

use std::collections::HashMap;
use std::fmt;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::collection::RuleSet;
use crate::correlation::CorrelationRule;
use crate::error::{ErrorKind, SigmaError};
use crate::eval::{
    CDetection, CField, CValue, Ctx, FieldId, FieldRef, FieldTable, Req, Scratch, Slot, compile_detection,
    detection_req,
};
use crate::event::{Event, Meta};
use crate::logsource::{LogsourceMap, Source};
use crate::pattern::{Pattern, StrMatcher, fold_case};
use crate::rule::SigmaRule;

/// Index of a detection rule in a [`CompiledRuleSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub u32);

impl RuleId {
    /// The index as `usize`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// An input of a correlation: a detection rule or another correlation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrelationInput {
    /// A detection rule.
    Rule(RuleId),
    /// A correlation, by index in [`CompiledRuleSet::correlations`].
    Correlation(usize),
}

/// A correlation rule with its references resolved.
#[derive(Debug, Clone)]
pub struct CompiledCorrelation {
    /// The rule as parsed.
    pub rule: CorrelationRule,
    /// Resolved `rules`, in order.
    pub inputs: Vec<CorrelationInput>,
    /// Per input: the event field for each `group-by` entry (aliases applied).
    pub group_fields: Vec<Vec<String>>,
    /// Per input: the event fields of `condition.field` (aliases applied).
    pub value_fields: Vec<Vec<String>>,
    /// True when another correlation uses this one as input.
    pub chained: bool,
}

/// One (rule, source) pair compiled against the source's field mapping.
#[derive(Debug)]
struct Entry {
    rule: u32,
    conditions: Vec<CField>,
    detection: CDetection,
    filters: Vec<CDetection>,
}

#[derive(Debug)]
struct FieldScan {
    fid: FieldId,
    ac: AhoCorasick,
    offset: u32,
}

/// The rules of one (channel, event id) and their literal prefilter.
#[derive(Debug, Default)]
struct Bucket {
    /// Entry index of each member.
    entries: Vec<u32>,
    /// Members without a usable needle: always evaluated.
    always: Vec<u32>,
    /// One automaton per field over the needles of that field.
    scans: Vec<FieldScan>,
    /// Members requiring needle `n` are `needle_members[needle_start[n]..needle_start[n + 1]]`.
    needle_start: Vec<u32>,
    needle_members: Vec<u32>,
}

#[derive(Debug, Default)]
struct ChannelBuckets {
    any: Option<usize>,
    by_id: HashMap<u32, usize>,
}

/// Rules compiled for single-pass matching. Build with [`RuleSet::compile`].
#[derive(Debug)]
pub struct CompiledRuleSet {
    rules: Vec<SigmaRule>,
    standalone: Vec<bool>,
    correlations: Vec<CompiledCorrelation>,
    skipped: Vec<SigmaError>,
    fields: FieldTable,
    meta_fids: Vec<(Meta, FieldId)>,
    entries: Vec<Entry>,
    buckets: Vec<Bucket>,
    channels: HashMap<String, ChannelBuckets>,
}

impl RuleSet {
    /// Compiles the rules with the built-in logsource mapping.
    pub fn compile(&self) -> CompiledRuleSet {
        self.compile_with(LogsourceMap::builtin())
    }

    /// Compiles the rules with `map`. Rules whose logsource is not mapped, and correlations with
    /// unknown references, are listed in [`CompiledRuleSet::skipped`].
    pub fn compile_with(&self, map: &LogsourceMap) -> CompiledRuleSet {
        let mut fields = FieldTable::default();
        let mut rules = Vec::new();
        let mut skipped = Vec::new();
        let mut entries = Vec::new();
        let mut pending: HashMap<BucketKey, Vec<(u32, Req)>> = HashMap::new();
        for rule in self.rules() {
            let sources = map.sources_for(&rule.logsource);
            if sources.is_empty() {
                skipped.push(SigmaError::new(
                    &rule.path,
                    "logsource",
                    ErrorKind::UnmappedLogsource(rule.logsource.to_string()),
                ));
                continue;
            }
            let filters: Vec<_> = self.filters().iter().filter(|f| f.applies_to(rule)).collect();
            let rid = rules.len() as u32;
            let mut compiled = Vec::with_capacity(sources.len());
            let mut failure = None;
            for src in &sources {
                match compile_entry(rid, rule, &filters, src, &mut fields) {
                    Ok(e) => compiled.push((e, *src)),
                    Err(k) => {
                        failure = Some(k);
                        break;
                    }
                }
            }
            if let Some(kind) = failure {
                skipped.push(SigmaError::new(&rule.path, "detection", kind));
                continue;
            }
            rules.push(rule.clone());
            for (entry, src) in compiled {
                let req = detection_req(&entry.detection, &entry.conditions);
                let eidx = entries.len() as u32;
                entries.push(entry);
                for key in bucket_keys(src) {
                    pending.entry(key).or_default().push((eidx, req.clone()));
                }
            }
        }
        let mut buckets = Vec::with_capacity(pending.len());
        let mut channels: HashMap<String, ChannelBuckets> = HashMap::new();
        let mut keys: Vec<_> = pending.into_iter().collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        for ((channel, id), members) in keys {
            let cb = channels.entry(channel).or_default();
            match id {
                Some(id) => {
                    cb.by_id.insert(id, buckets.len());
                }
                None => cb.any = Some(buckets.len()),
            }
            buckets.push(build_bucket(members));
        }
        fields.finish();
        let meta_fids = Meta::ALL
            .iter()
            .filter_map(|(m, name)| fields.ids.get(*name).map(|f| (*m, *f)))
            .collect();
        let mut set = CompiledRuleSet {
            standalone: vec![true; rules.len()],
            rules,
            correlations: Vec::new(),
            skipped,
            fields,
            meta_fids,
            entries,
            buckets,
            channels,
        };
        set.resolve_correlations(self.correlations());
        set
    }
}

/// (lower-case channel or `""` for any, event id or `None` for any).
type BucketKey = (String, Option<u32>);

fn bucket_keys(src: &Source) -> Vec<BucketKey> {
    let channels: Vec<String> = if src.channels.is_empty() {
        vec![String::new()]
    } else {
        src.channels.iter().map(|c| c.to_lowercase()).collect()
    };
    let ids: Vec<Option<u32>> = if src.event_ids.is_empty() {
        vec![None]
    } else {
        src.event_ids.iter().map(|i| Some(*i)).collect()
    };
    channels
        .iter()
        .flat_map(|c| ids.iter().map(move |i| (c.clone(), *i)))
        .collect()
}

fn compile_entry(
    rid: u32,
    rule: &SigmaRule,
    filters: &[&crate::filter::FilterRule],
    src: &Source,
    fields: &mut FieldTable,
) -> Result<Entry, ErrorKind> {
    let detection = compile_detection(&rule.detection, src, fields)?;
    let filters = filters
        .iter()
        .map(|f| compile_detection(&f.detection, src, fields))
        .collect::<Result<_, _>>()?;
    let conditions = src
        .conditions
        .iter()
        .map(|(field, values)| CField {
            field: Some(FieldRef::Id(fields.intern(field))),
            values: values
                .iter()
                .map(|v| CValue::Str(StrMatcher::new(&Pattern::literal(v), true), false))
                .collect(),
            all: false,
            neq: false,
            time_part: None,
            has_fieldref: false,
        })
        .collect();
    Ok(Entry {
        rule: rid,
        conditions,
        detection,
        filters,
    })
}

fn build_bucket(members: Vec<(u32, Req)>) -> Bucket {
    let mut by_field: HashMap<FieldId, Vec<String>> = HashMap::new();
    for (_, req) in &members {
        if let Req::OneOf(ns) = req {
            for (fid, s) in ns {
                by_field.entry(*fid).or_default().push(s.clone());
            }
        }
    }
    let mut fids: Vec<FieldId> = by_field.keys().copied().collect();
    fids.sort_unstable();
    let mut needle_ids: HashMap<(FieldId, String), u32> = HashMap::new();
    let mut scans = Vec::new();
    let mut offset = 0u32;
    for fid in fids {
        let mut pats = by_field.remove(&fid).unwrap_or_default();
        pats.sort();
        pats.dedup();
        let Ok(ac) = AhoCorasick::builder().match_kind(MatchKind::Standard).build(&pats) else {
            // Without an automaton the needles could never be seen: evaluate every member.
            let entries: Vec<u32> = members.iter().map(|(e, _)| *e).collect();
            let always = (0..entries.len() as u32).collect();
            return Bucket {
                entries,
                always,
                scans: Vec::new(),
                needle_start: vec![0],
                needle_members: Vec::new(),
            };
        };
        let count = pats.len() as u32;
        for (i, p) in pats.into_iter().enumerate() {
            needle_ids.insert((fid, p), offset + i as u32);
        }
        scans.push(FieldScan { fid, ac, offset });
        offset += count;
    }
    let mut lists: Vec<Vec<u32>> = vec![Vec::new(); offset as usize];
    let mut entries = Vec::with_capacity(members.len());
    let mut always = Vec::new();
    for (m, (entry, req)) in members.into_iter().enumerate() {
        let m = m as u32;
        entries.push(entry);
        match req {
            Req::Any => always.push(m),
            Req::OneOf(ns) => {
                for n in &ns {
                    if let Some(list) = needle_ids.get(n).and_then(|id| lists.get_mut(*id as usize))
                        && list.last() != Some(&m)
                    {
                        list.push(m);
                    }
                }
            }
        }
    }
    let mut needle_start = Vec::with_capacity(lists.len() + 1);
    let mut needle_members = Vec::new();
    for l in lists {
        needle_start.push(needle_members.len() as u32);
        needle_members.extend(l);
    }
    needle_start.push(needle_members.len() as u32);
    Bucket {
        entries,
        always,
        scans,
        needle_start,
        needle_members,
    }
}

impl CompiledRuleSet {
    /// The compiled detection rules; [`RuleId`]s index this slice.
    pub fn rules(&self) -> &[SigmaRule] {
        &self.rules
    }

    /// One rule.
    pub fn rule(&self, id: RuleId) -> Option<&SigmaRule> {
        self.rules.get(id.index())
    }

    /// Finds a rule by `id` or `name`.
    pub fn find(&self, reference: &str) -> Option<RuleId> {
        self.rules
            .iter()
            .position(|r| r.id.as_deref() == Some(reference) || r.name.as_deref() == Some(reference))
            .map(|i| RuleId(i as u32))
    }

    /// Whether a rule reports matches on its own: false when a correlation with
    /// `generate: false` (the default) uses it.
    pub fn is_standalone(&self, id: RuleId) -> bool {
        self.standalone.get(id.index()).copied().unwrap_or(false)
    }

    /// Resolved correlation rules.
    pub fn correlations(&self) -> &[CompiledCorrelation] {
        &self.correlations
    }

    /// Rules and correlations that were not compiled, with the reason.
    pub fn skipped(&self) -> &[SigmaError] {
        &self.skipped
    }

    /// A scanner with reusable buffers (one per thread).
    pub fn scanner(&self) -> Scanner<'_> {
        Scanner {
            set: self,
            scratch: Scratch::default(),
            needle_seen: Vec::new(),
            member_seen: Vec::new(),
            epoch: 0,
            candidates: Vec::new(),
            buckets: Vec::new(),
            stats: ScanStats::default(),
            prefilter: true,
        }
    }

    /// The rules matching `event`, in ascending order.
    pub fn matches(&self, event: &Event<'_>) -> impl Iterator<Item = RuleId> + use<> {
        let mut out = Vec::new();
        self.scanner().scan(event, &mut out);
        out.into_iter()
    }

    fn resolve_correlations(&mut self, corrs: &[CorrelationRule]) {
        let find_corr = |r: &str| {
            corrs
                .iter()
                .position(|c| c.id.as_deref() == Some(r) || c.name.as_deref() == Some(r))
        };
        // Resolve references (by original index).
        let mut resolved: Vec<Option<Vec<CorrelationInput>>> = Vec::with_capacity(corrs.len());
        for c in corrs {
            let mut inputs = Vec::new();
            let mut bad = None;
            for r in &c.rules {
                if let Some(id) = self.find(r) {
                    inputs.push(CorrelationInput::Rule(id));
                } else if let Some(ci) = find_corr(r) {
                    inputs.push(CorrelationInput::Correlation(ci));
                } else {
                    bad = Some(r.clone());
                    break;
                }
            }
            match bad {
                Some(r) => {
                    self.skipped
                        .push(SigmaError::new(&c.path, "correlation.rules", ErrorKind::UnknownRule(r)));
                    resolved.push(None);
                }
                None => resolved.push(Some(inputs)),
            }
        }
        // Drop correlations in cycles or depending on dropped ones, until stable.
        loop {
            let mut changed = false;
            for i in 0..resolved.len() {
                let Some(inputs) = &resolved[i] else { continue };
                let broken = inputs.iter().any(|inp| match inp {
                    CorrelationInput::Correlation(j) => resolved[*j].is_none() || reaches(&resolved, *j, i),
                    CorrelationInput::Rule(_) => false,
                });
                if broken {
                    let c = &corrs[i];
                    let kind = if inputs
                        .iter()
                        .any(|inp| matches!(inp, CorrelationInput::Correlation(j) if resolved[*j].is_some()))
                    {
                        ErrorKind::CorrelationCycle(c.reference().to_owned())
                    } else {
                        ErrorKind::UnknownRule(c.reference().to_owned())
                    };
                    self.skipped.push(SigmaError::new(&c.path, "correlation.rules", kind));
                    resolved[i] = None;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let mut new_index = vec![usize::MAX; corrs.len()];
        let mut n = 0;
        for (i, r) in resolved.iter().enumerate() {
            if r.is_some() {
                new_index[i] = n;
                n += 1;
            }
        }
        for (i, r) in resolved.into_iter().enumerate() {
            let Some(inputs) = r else { continue };
            let c = &corrs[i];
            let inputs: Vec<CorrelationInput> = inputs
                .into_iter()
                .map(|inp| match inp {
                    CorrelationInput::Correlation(j) => CorrelationInput::Correlation(new_index[j]),
                    rule => rule,
                })
                .collect();
            let mut group_fields = Vec::with_capacity(inputs.len());
            let mut value_fields = Vec::with_capacity(inputs.len());
            for (k, inp) in inputs.iter().enumerate() {
                let mut refs: Vec<&str> = vec![c.rules[k].as_str()];
                match inp {
                    CorrelationInput::Rule(id) => {
                        if let Some(r) = self.rules.get(id.index()) {
                            refs.extend(r.id.as_deref());
                            refs.extend(r.name.as_deref());
                        }
                    }
                    CorrelationInput::Correlation(_) => {}
                }
                group_fields.push(c.group_by.iter().map(|g| c.field_for(g, &refs)).collect());
                value_fields.push(c.condition.fields.iter().map(|g| c.field_for(g, &refs)).collect());
            }
            if !c.generate {
                for inp in &inputs {
                    if let CorrelationInput::Rule(id) = inp
                        && let Some(s) = self.standalone.get_mut(id.index())
                    {
                        *s = false;
                    }
                }
            }
            self.correlations.push(CompiledCorrelation {
                rule: c.clone(),
                inputs,
                group_fields,
                value_fields,
                chained: false,
            });
        }
        let chained: Vec<usize> = self
            .correlations
            .iter()
            .flat_map(|c| c.inputs.iter())
            .filter_map(|i| match i {
                CorrelationInput::Correlation(j) => Some(*j),
                CorrelationInput::Rule(_) => None,
            })
            .collect();
        for j in chained {
            if let Some(c) = self.correlations.get_mut(j) {
                c.chained = true;
            }
        }
    }
}

/// True when correlation `from` (transitively) uses correlation `target`.
fn reaches(resolved: &[Option<Vec<CorrelationInput>>], from: usize, target: usize) -> bool {
    let mut stack = vec![from];
    let mut seen = vec![false; resolved.len()];
    while let Some(i) = stack.pop() {
        if i == target {
            return true;
        }
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        if let Some(Some(inputs)) = resolved.get(i) {
            for inp in inputs {
                if let CorrelationInput::Correlation(j) = inp {
                    stack.push(*j);
                }
            }
        }
    }
    false
}

/// Counters of a [`Scanner`], showing how much work the prefilter saved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Events scanned.
    pub events: u64,
    /// (rule, source) pairs in the events' buckets.
    pub candidates: u64,
    /// Pairs that passed the literal prefilter and were evaluated exactly.
    pub evaluated: u64,
    /// Pairs that matched.
    pub matched: u64,
}

/// Scans events against a [`CompiledRuleSet`], reusing buffers between events.
pub struct Scanner<'r> {
    set: &'r CompiledRuleSet,
    scratch: Scratch,
    /// Epoch stamps: a needle / member was seen in the current bucket scan when equal to `epoch`.
    needle_seen: Vec<u32>,
    member_seen: Vec<u32>,
    epoch: u32,
    candidates: Vec<u32>,
    buckets: Vec<usize>,
    stats: ScanStats,
    /// Tests can switch the literal prefilter off to compare against exhaustive evaluation.
    prefilter: bool,
}

impl Scanner<'_> {
    /// Evaluates every rule of the event's buckets, ignoring the literal prefilter.
    #[cfg(test)]
    pub(crate) fn without_prefilter(mut self) -> Self {
        self.prefilter = false;
        self
    }

    /// Counters so far.
    pub fn stats(&self) -> ScanStats {
        self.stats
    }

    /// Writes the ids of the rules matching `event` to `out` (cleared first), ascending.
    pub fn scan(&mut self, event: &Event<'_>, out: &mut Vec<RuleId>) {
        out.clear();
        self.stats.events += 1;
        let set = self.set;
        let s = &mut self.scratch;
        s.reset(event.fields().len(), set.fields.len());
        for (i, (name, _)) in event.fields().iter().enumerate() {
            let fid = set.fields.find(name);
            s.event_fids.push(fid);
            if let Some(fid) = fid {
                match s.slots.get(fid as usize).copied() {
                    Some(Slot::Absent) => s.set_slot(fid, Slot::One(i as u32)),
                    Some(Slot::One(j)) => s.set_slot(fid, Slot::Many(j)),
                    _ => {}
                }
            }
        }
        for &(m, fid) in &set.meta_fids {
            if s.slots.get(fid as usize) == Some(&Slot::Absent) && event.meta(m).is_some() {
                s.set_slot(fid, Slot::Meta(m));
            }
        }
        self.buckets.clear();
        let channel = event.channel.as_deref().map(str::to_lowercase).unwrap_or_default();
        let mut add = |cb: Option<&ChannelBuckets>| {
            if let Some(cb) = cb {
                if let Some(id) = event.event_id.and_then(|id| cb.by_id.get(&id)) {
                    self.buckets.push(*id);
                }
                if let Some(any) = cb.any {
                    self.buckets.push(any);
                }
            }
        };
        if !channel.is_empty() {
            add(set.channels.get(&channel));
        }
        add(set.channels.get(""));
        for bi in 0..self.buckets.len() {
            let b = self.buckets[bi];
            self.scan_bucket(b, event, out);
        }
        out.sort_unstable();
        out.dedup();
    }

    fn scan_bucket(&mut self, b: usize, event: &Event<'_>, out: &mut Vec<RuleId>) {
        let set = self.set;
        let Some(bucket) = set.buckets.get(b) else { return };
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.needle_seen.iter_mut().for_each(|x| *x = 0);
            self.member_seen.iter_mut().for_each(|x| *x = 0);
            self.epoch = 1;
        }
        let epoch = self.epoch;
        let needles = bucket.needle_start.len().saturating_sub(1);
        if self.needle_seen.len() < needles {
            self.needle_seen.resize(needles, 0);
        }
        if self.member_seen.len() < bucket.entries.len() {
            self.member_seen.resize(bucket.entries.len(), 0);
        }
        self.candidates.clear();
        if self.prefilter {
            self.candidates.extend_from_slice(&bucket.always);
        } else {
            self.candidates.extend(0..bucket.entries.len() as u32);
        }
        let mut ctx = Ctx {
            event,
            scratch: &mut self.scratch,
        };
        let mut seen = Seen {
            needle_seen: &mut self.needle_seen,
            member_seen: &mut self.member_seen,
            candidates: &mut self.candidates,
            epoch,
            bucket,
        };
        let scans: &[FieldScan] = if self.prefilter { &bucket.scans } else { &[] };
        for scan in scans {
            let slot = ctx
                .scratch
                .slots
                .get(scan.fid as usize)
                .copied()
                .unwrap_or(Slot::Absent);
            match slot {
                Slot::Absent => {}
                Slot::One(i) => {
                    if ctx.ensure(i as usize) {
                        seen.scan(scan, ctx.val(i as usize).lower);
                    }
                }
                Slot::Many(first) => {
                    for i in first as usize..event.fields().len() {
                        if ctx.scratch.event_fids.get(i).copied().flatten() == Some(scan.fid) && ctx.ensure(i) {
                            seen.scan(scan, ctx.val(i).lower);
                        }
                    }
                }
                Slot::Meta(m) => {
                    if let Some(t) = event.meta(m).and_then(|v| v.as_text().map(|t| t.into_owned())) {
                        seen.scan(scan, &fold_case(&t));
                    }
                }
            }
        }
        self.stats.candidates += bucket.entries.len() as u64;
        self.stats.evaluated += self.candidates.len() as u64;
        for &m in &self.candidates {
            let Some(entry) = bucket
                .entries
                .get(m as usize)
                .and_then(|e| set.entries.get(*e as usize))
            else {
                continue;
            };
            let matched = entry.conditions.iter().all(|c| ctx.field(c))
                && ctx.detection(&entry.detection)
                && !entry.filters.iter().any(|f| ctx.detection(f));
            if matched {
                self.stats.matched += 1;
                out.push(RuleId(entry.rule));
            }
        }
    }
}

/// Prefilter bookkeeping for one bucket scan.
struct Seen<'x> {
    needle_seen: &'x mut [u32],
    member_seen: &'x mut [u32],
    candidates: &'x mut Vec<u32>,
    epoch: u32,
    bucket: &'x Bucket,
}

impl Seen<'_> {
    /// Runs one field automaton over `hay`, adding the members of newly seen needles.
    fn scan(&mut self, scan: &FieldScan, hay: &str) {
        for m in scan.ac.find_overlapping_iter(hay) {
            let n = scan.offset as usize + m.pattern().as_usize();
            match self.needle_seen.get_mut(n) {
                Some(s) if *s != self.epoch => *s = self.epoch,
                _ => continue,
            }
            let (Some(&a), Some(&z)) = (self.bucket.needle_start.get(n), self.bucket.needle_start.get(n + 1)) else {
                continue;
            };
            for &mi in self
                .bucket
                .needle_members
                .get(a as usize..z as usize)
                .unwrap_or_default()
            {
                if let Some(s) = self.member_seen.get_mut(mi as usize)
                    && *s != self.epoch
                {
                    *s = self.epoch;
                    self.candidates.push(mi);
                }
            }
        }
    }
}
