//! Fuzz target: random bytes through the whole `hunt` path. The bytes are one evidence file of
//! any format (sniffed as `hunt` does, gzip and UTF-16 included); what the readers make of them
//! is registered as tables and the built-in pack runs over them with the catalog. Nothing may
//! panic; readers may skip, rules may fail (bounded by a time and a memory limit).
#![no_main]

use engine::{Engine, EngineOptions};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;
use telemetry::{MemorySink, ReadOptions, read_buffer};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    })
}

fn pack() -> &'static [detect::Rule] {
    static PACK: OnceLock<Vec<detect::Rule>> = OnceLock::new();
    PACK.get_or_init(|| detect::rule::builtin_pack().0)
}

fuzz_target!(|data: &[u8]| {
    let options = ReadOptions {
        threads: 1,
        ..ReadOptions::default()
    };
    let mut sink = MemorySink::default();
    if read_buffer(Path::new("fuzz.evidence"), data.to_vec(), &options, &mut sink).is_err() {
        return;
    }
    let Ok(mut engine) = Engine::new(EngineOptions {
        target_partitions: Some(1),
        memory_limit: Some(256 << 20),
        query_timeout: Some(Duration::from_secs(20)),
        ..EngineOptions::default()
    }) else {
        return;
    };
    let names: Vec<&str> = telemetry::schema::tables().iter().map(|t| t.name()).collect();
    if telemetry::register_tables(engine.session(), sink.tables, 1).is_err() {
        return;
    }
    let tools = detect::catalog::builtin();
    runtime().block_on(async {
        if engine.import_session_tables(&names).await.is_err() {
            return;
        }
        // The pack with the catalog tables, as `hunt` runs it.
        let mode = detect::hunt::TimeMode::Window(detect::hunt::Window::All);
        if let Ok(run) = detect::run_pack(&mut engine, pack(), None, &tools, None, mode).await {
            std::hint::black_box(run.alerts.len());
        }
    });
});
