#!/usr/bin/env bash
# Every combination of the features rustls, native-tls, platform-verifier and gzip (16 builds):
# builds each one and makes https:// calls through it against the rustls server of
# tests/tls.rs on 127.0.0.1 (a trusted call, and a call to a server signed by an unknown CA);
# without a TLS feature, the call that must be refused with a config error. No combination may
# panic. Prints one line per combination, then the crate count of each feature set.
#
#   bash scripts/tls-matrix.sh        # about 10-20 minutes on 2 cores (16 builds of ureq)
#
# Needs the OpenSSL headers for native-tls (installed with apt-get when missing). Binds
# 127.0.0.1 only; the test servers stop with their test.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! pkg-config --exists openssl 2>/dev/null; then
    (apt-get update -qq && apt-get install -y -qq libssl-dev pkg-config) >/dev/null
fi

TESTS=(trusted_through_ca_certificates_pem untrusted_server_is_a_tls_error_that_names_the_fix
       https_without_tls_features_names_them)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=0
printf '%-40s %-8s %s\n' "features" "result" "tests"
for mask in $(seq 0 15); do
    features=()
    (( mask & 1 )) && features+=(rustls)
    (( mask & 2 )) && features+=(native-tls)
    (( mask & 4 )) && features+=(platform-verifier)
    (( mask & 8 )) && features+=(gzip)
    list=$(IFS=,; echo "${features[*]:-}")
    args=(--no-default-features)
    [ -n "$list" ] && args+=(--features "$list")
    if cargo test --quiet "${args[@]}" --test tls -- "${TESTS[@]}" >"$log" 2>&1; then
        result=ok
    else
        result=FAILED
        failed=1
    fi
    # A panic inside the library (ureq's "feature is not enabled" and the like) is reported
    # with a location outside tests/: count those apart from the tests' own assertions.
    panics=$(grep -c "panicked at" "$log" | tr -d ' ')
    library_panics=$(grep "panicked at" "$log" | grep -vc "tests/" | tr -d ' ')
    counts=$(grep -o "[0-9]* passed; [0-9]* failed" "$log" | tail -1)
    [ "$library_panics" != 0 ] && { result="PANIC"; failed=1; }
    printf '%-40s %-8s %s (panics: %s)\n' "${list:-(none)}" "$result" "$counts" "$panics"
    [ "$result" != ok ] && sed -n '1,60p' "$log"
done

echo
echo "unique crates per feature set (cargo tree -e normal --prefix none | sort -u | wc -l):"
for set in "" "--no-default-features" "--no-default-features --features rustls" \
           "--no-default-features --features native-tls" \
           "--no-default-features --features platform-verifier" "--all-features"; do
    # shellcheck disable=SC2086 # the feature arguments are split on purpose
    n=$(cargo tree -e normal --prefix none $set 2>/dev/null | sed 's/ (\*)$//' | sort -u | wc -l)
    printf '  %-52s %s\n' "${set:-(default: rustls, gzip)}" "$n"
done
exit $failed
