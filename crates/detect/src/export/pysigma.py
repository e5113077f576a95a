"""ratcatcher's driver for pySigma backends: converts each exported Sigma rule on its own.

Run by `ratcatcher export --to TARGET` with the Python interpreter of the environment sigma-cli
is installed in. It converts every rule listed in the manifest with one backend and processing
pipeline, writes one query file per rule, and prints a JSON summary: rules converted, and each
failure with the backend's own reason.

Arguments: TARGET PIPELINES(comma-separated, may be empty) EXTENSION RULES_DIR OUT_DIR
"""

import json
import os
import sys
import traceback


def main():
    target, pipelines, ext, rules_dir, out_dir = sys.argv[1:6]
    pipelines = [p for p in pipelines.split(",") if p]
    from importlib import metadata

    from sigma.collection import SigmaCollection
    from sigma.plugins import InstalledSigmaPlugins

    plugins = InstalledSigmaPlugins.autodiscover()
    if target not in plugins.backends:
        print(json.dumps({"error": "backend %s is not installed (installed: %s)"
                          % (target, ", ".join(sorted(plugins.backends)))}))
        return 3
    backend_cls = plugins.backends[target]
    resolver = plugins.get_pipeline_resolver()

    with open(os.path.join(rules_dir, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    by_id = {}
    for r in manifest["rules"]:
        with open(os.path.join(rules_dir, r["file"]), encoding="utf-8") as f:
            by_id[r["id"]] = f.read()

    converted, failed = 0, []
    for r in manifest["rules"]:
        text = by_id[r["id"]]
        docs = [text]
        if r["family"] == "correlation":
            # a correlation is converted with the rules it refers to
            refs = [line.strip()[2:] for line in text.splitlines()
                    if line.startswith("    - ")]
            docs = [by_id[i] for i in refs if i in by_id] + [text]
        try:
            # resolved for each rule (pipelines keep state across conversions) and without the
            # target, as sigma-cli's --disable-pipeline-check: ES|QL takes the ECS Windows
            # pipeline, which declares only the Lucene/EQL backends
            pipeline = resolver.resolve(pipelines) if pipelines else None
            backend = (backend_cls(processing_pipeline=pipeline) if pipeline is not None
                       else backend_cls())
            collection = SigmaCollection.from_yaml("\n---\n".join(docs))
            queries = backend.convert(collection)
            if isinstance(queries, str):
                queries = [queries]
            queries = [q if isinstance(q, str) else json.dumps(q, sort_keys=True)
                       for q in queries]
            if not queries:
                raise ValueError("the backend returned no query")
            query = queries[-1] if r["family"] == "correlation" else "\n".join(queries)
            path = os.path.join(out_dir, os.path.splitext(r["file"])[0] + "." + ext)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write(query.rstrip("\n") + "\n")
            converted += 1
        except Exception as e:  # the backend's reason, whatever its type
            reason = " ".join(str(e).split()) or type(e).__name__
            # backends repeat one message per value: keep each sentence once
            seen = []
            for sentence in reason.split(". "):
                if sentence not in seen:
                    seen.append(sentence)
            reason = ". ".join(seen)
            if os.environ.get("RATCATCHER_PYSIGMA_TRACE"):
                traceback.print_exc()
            failed.append({"file": r["file"], "id": r["id"], "reason": reason[:300]})
    versions = {}
    for dist in sorted(metadata.distributions(), key=lambda d: d.metadata["Name"].lower()):
        name = dist.metadata["Name"]
        if name.lower().startswith(("pysigma", "sigma-cli")):
            versions[name] = dist.version
    print(json.dumps({"target": target, "pipelines": pipelines, "converted": converted,
                      "failed": failed, "versions": versions}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
