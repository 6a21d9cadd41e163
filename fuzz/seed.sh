#!/usr/bin/env bash
# Seed the fuzz corpora (gitignored) from every committed BPF object:
#   corpus/object, corpus/pipeline  whole objects
#   corpus/btf                      their .BTF sections
#   corpus/btf_ext                  their .BTF.ext sections
#   corpus/gen_object               (empty: the generator needs no seeds)
#   corpus/inflate                  the objects gzipped
# Run from anywhere; safe to repeat.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/.."
OBJCOPY="${OBJCOPY:-$(command -v llvm-objcopy-19 || command -v llvm-objcopy || command -v objcopy)}"
mkdir -p "$here"/corpus/{object,pipeline,btf,btf_ext,gen_object,inflate}
n=0
while IFS= read -r -d '' o; do
    base="$(echo "${o#"$root"/}" | tr '/' '_')"
    cp "$o" "$here/corpus/object/$base"
    cp "$o" "$here/corpus/pipeline/$base"
    gzip -9 -c "$o" > "$here/corpus/inflate/$base.gz"
    "$OBJCOPY" --dump-section ".BTF=$here/corpus/btf/$base.btf" "$o" /dev/null 2>/dev/null || true
    "$OBJCOPY" --dump-section ".BTF.ext=$here/corpus/btf_ext/$base.btf_ext" "$o" /dev/null 2>/dev/null || true
    n=$((n + 1))
done < <(find "$root/bpf" -name '*.bpf.o' -print0 | sort -z)
echo "seed.sh: seeded from $n objects: $(for d in object pipeline btf btf_ext inflate; do printf '%s=%s ' "$d" "$(ls "$here/corpus/$d" | wc -l)"; done)"
