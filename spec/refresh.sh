#!/usr/bin/env bash
# Replaces the vendored OpenAPI spec from an upstream openapi.yaml and regenerates what is
# derived from it (the Chat subset, its examples, the fuzz seeds). See spec/README.md.
#
# Usage: spec/refresh.sh PATH/TO/openapi.yaml COMMIT
# COMMIT is the commit of https://github.com/openai/openai-openapi the file comes from.
# Needs python3 with PyYAML (pip install pyyaml).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: spec/refresh.sh PATH/TO/openapi.yaml COMMIT" >&2; exit 2; }
SRC=$1
COMMIT=$2
[ -f "$SRC" ] || { echo "not a file: $SRC" >&2; exit 1; }
[[ "$COMMIT" =~ ^[0-9a-f]{40}$ ]] || { echo "COMMIT must be 40 hex digits: $COMMIT" >&2; exit 1; }
cd "$(dirname "$0")"

if ! cmp -s "$SRC" openapi.yaml; then
    cp "$SRC" openapi.yaml
fi
rm -f examples/*.json
python3 extract_chat.py --commit "$COMMIT"
python3 check_refs.py --no-validator

sum=$(sha256sum openapi.yaml | cut -d' ' -f1)
sed -i -e "s/^- Commit: \`[0-9a-f]*\`/- Commit: \`$COMMIT\`/" \
    -e "s/(sha256 \`[0-9a-f]*\`)/(sha256 \`$sum\`)/" README.md
sed -i "s/^DEFAULT_COMMIT = \"[0-9a-f]*\"/DEFAULT_COMMIT = \"$COMMIT\"/" extract_chat.py

python3 ../fuzz/make_seeds.py examples
echo "refreshed from $SRC at $COMMIT; edit the commit's title and date in spec/README.md,"
echo "then run: cargo test --test spec_examples && bash scripts/prism.sh"
