#!/usr/bin/python3
"""Checks the Kubernetes manifests against the binary they run.

Kubernetes cannot run here, so what can go stale is checked instead: every flag a container
passes to chaperon is one that `chaperon <command> --help` lists; the kustomizations name files
that exist; the workers reach the master's Service by its name and port; the token comes from the
Secret; the Indexed Job's share count equals its completions and parallelism.

Usage: check_manifests.py CHAPERON_BINARY DEPLOY_KUBERNETES_DIR
"""
import pathlib
import re
import shlex
import subprocess
import sys

import yaml

failures = []


def fail(where, message):
    failures.append(f"{where}: {message}")


def load(root):
    docs = []
    for path in sorted(root.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((path.relative_to(root), doc))
    return docs


help_cache = {}


def flags_of(binary, command):
    if command not in help_cache:
        out = subprocess.run([binary, command, "--help"], capture_output=True, text=True,
                             timeout=30)
        # The main help (exit 0 too) is what an unknown command gets.
        usage = re.search(r"^Usage: \S+ (\S+)", out.stdout, re.M)
        if out.returncode != 0 or not usage or usage.group(1) != command:
            help_cache[command] = None
        else:
            help_cache[command] = set(re.findall(r"(--[a-z0-9][a-z0-9-]*)", out.stdout))
    return help_cache[command]


def command_line(container):
    """The chaperon arguments of a container (a shell line is split like the shell would)."""
    args = container.get("args", [])
    if container.get("command", [None])[0] == "/bin/sh":
        words = shlex.split(args[-1])
        if words[:1] == ["exec"]:
            words = words[1:]
        return words[1:] if words[:1] == ["chaperon"] else None
    return args


def check_container(where, container, binary):
    args = command_line(container)
    if not args:
        return fail(where, "no chaperon command line")
    known = flags_of(binary, args[0])
    if known is None:
        return fail(where, f"`chaperon {args[0]}` is not a command of the binary")
    for arg in args[1:]:
        if arg.startswith("--") and arg.split("=", 1)[0] not in known:
            fail(where, f"`chaperon {args[0]}` has no flag {arg.split('=', 1)[0]}")


def pods(docs):
    for path, doc in docs:
        spec = doc.get("spec", {})
        if doc.get("kind") in ("Deployment", "Job"):
            yield path, doc, spec["template"]["spec"]


def check(binary, root):
    docs = load(root)
    for path, doc in docs:
        if doc.get("kind") == "Kustomization":
            for resource in doc.get("resources", []):
                if not (root / path.parent / resource).exists():
                    fail(path, f"resource {resource} does not exist")
    services = {d["metadata"]["name"]: d for _, d in docs if d.get("kind") == "Service"}
    secrets = {d["metadata"]["name"]: d for _, d in docs if d.get("kind") == "Secret"}
    for path, doc, pod in pods(docs):
        where = f"{path} {doc['metadata']['name']}"
        for c in pod["containers"]:
            check_container(where, c, binary)
            args = command_line(c) or []
            for env in c.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["name"] not in secrets:
                    fail(where, f"secret {ref['name']} is not defined")
                elif ref and ref["key"] not in secrets[ref["name"]].get("stringData", {}):
                    fail(where, f"secret {ref['name']} has no key {ref['key']}")
            for arg in args:
                if arg.startswith("--master="):
                    host, port = arg.split("=", 1)[1].rsplit(":", 1)
                    svc = services.get(host)
                    if not svc:
                        fail(where, f"--master names {host}, which no Service is")
                    elif int(port) not in [p["port"] for p in svc["spec"]["ports"]]:
                        fail(where, f"Service {host} has no port {port}")
                m = re.fullmatch(r"--share=\$\(JOB_COMPLETION_INDEX\)/(\d+)", arg)
                if m:
                    n = int(m.group(1))
                    if doc["spec"].get("completionMode") != "Indexed":
                        fail(where, "--share needs completionMode: Indexed")
                    for key in ("completions", "parallelism"):
                        if doc["spec"].get(key) != n:
                            fail(where, f"{key} is {doc['spec'].get(key)}, the shares are {n}")
    for name, svc in services.items():
        selected = [d for _, d in docs if d.get("kind") == "Deployment" and
                    svc["spec"]["selector"].items() <=
                    d["spec"]["template"]["metadata"]["labels"].items()]
        if not selected:
            fail(name, "the Service selects no Deployment")
    return len(docs)


def main():
    binary, root = sys.argv[1], pathlib.Path(sys.argv[2])
    count = check(binary, root)
    for f in failures:
        print("FAIL", f)
    print(f"{count} manifests checked, {len(failures)} problems")
    return 1 if failures or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
