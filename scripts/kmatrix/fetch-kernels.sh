#!/usr/bin/env bash
# Fetch the kernels of the kernel matrix (Debian cloud-amd64 unsigned images)
# with a PRIVATE apt configuration: the machine's sources, state and cache are
# never read or changed.
#
# usage: scripts/kmatrix/fetch-kernels.sh CACHE SERIES...
#
#   CACHE   cache dir (e.g. /var/tmp/tinybpf-kmatrix); uses CACHE/apt (private
#           sources.list, state and cache) and CACHE/kernels/<release>/
#   SERIES  5.10 (bullseye), 6.1 (bookworm), 6.12 (bookworm-backports)
#
# For each series the newest linux-image-<release>-cloud-amd64-unsigned apt
# sees is downloaded and unpacked into CACHE/kernels/<release>/ as vmlinuz
# and config (the package's /boot/config-<release>), plus version (the
# package version). Prints "SERIES RELEASE DIR" per series on stdout. A
# series whose newest release is already unpacked is not fetched again; the
# package lists are refreshed at most once a day.
set -euo pipefail

CACHE="${1:?usage: fetch-kernels.sh CACHE SERIES...}"
shift
log() { echo "kmatrix-fetch: $*" >&2; }

APT="$CACHE/apt"
mkdir -p "$APT/state/lists/partial" "$APT/cache/archives/partial" "$APT/etc" "$CACHE/kernels"
touch "$APT/state/status"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MIRROR="${TINYBPF_KMATRIX_MIRROR:-http://deb.debian.org/debian}"
SECURITY="${TINYBPF_KMATRIX_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
cat >"$APT/etc/sources.list.new" <<EOF
deb [arch=amd64 signed-by=$KEYRING] $MIRROR bullseye main
deb [arch=amd64 signed-by=$KEYRING] $SECURITY bullseye-security main
deb [arch=amd64 signed-by=$KEYRING] $MIRROR bookworm main
deb [arch=amd64 signed-by=$KEYRING] $SECURITY bookworm-security main
deb [arch=amd64 signed-by=$KEYRING] $MIRROR bookworm-backports main
EOF
mv "$APT/etc/sources.list.new" "$APT/etc/sources.list"

OPTS=(
    -o "Dir::Etc::SourceList=$APT/etc/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::Etc::Preferences=/dev/null"
    -o "Dir::Etc::PreferencesParts=/dev/null"
    -o "Dir::State=$APT/state"
    -o "Dir::State::status=$APT/state/status"
    -o "Dir::Cache=$APT/cache"
    -o "APT::Architecture=amd64"
    -o "APT::Architectures=amd64"
    -o "APT::Sandbox::User=root"
    -o "Acquire::Languages=none"
)

# Refresh the private package lists when older than a day (or absent).
stamp="$APT/state/updated"
if [[ ! -f "$stamp" || -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ]]; then
    log "apt-get update (private lists in $APT)"
    if apt-get "${OPTS[@]}" -q update </dev/null >&2; then
        touch "$stamp"
        rm -f "$CACHE/kernels/unavailable"
    else
        log "apt-get update failed; using whatever lists are there"
    fi
fi

# Package-name pattern (ERE) of each series; the release is the name
# without linux-image- and -unsigned.
pattern_of() {
    case "$1" in
        5.10) echo '^linux-image-5\.10\.0-[0-9]+-cloud-amd64-unsigned$' ;;
        6.1) echo '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' ;;
        6.12) echo '^linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64-unsigned$' ;;
        *) return 1 ;;
    esac
}

# Download and unpack release $2 of series $1 into CACHE/kernels/$2.
fetch_release() {
    local series="$1" rel="$2" dir="$CACHE/kernels/$2" pkg="linux-image-$2-unsigned"
    local t0=$SECONDS work deb
    work=$(mktemp -d "$CACHE/dl.XXXXXX")
    log "$series: apt-get download $pkg"
    if ! (cd "$work" && apt-get "${OPTS[@]}" -q download "$pkg" </dev/null >&2); then
        log "$series: download of $pkg failed (not tried again until the next apt-get update)"
        echo "$rel" >>"$CACHE/kernels/unavailable"
        rm -rf "$work"
        return 1
    fi
    deb=$(ls "$work"/*.deb | head -n1)
    # Only the two files needed: the image and its config.
    mkdir -p "$work/root"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/root" --wildcards './boot/*' 2>/dev/null || true
    if [[ ! -s "$work/root/boot/vmlinuz-$rel" || ! -s "$work/root/boot/config-$rel" ]]; then
        log "$series: $pkg has no /boot/vmlinuz-$rel or /boot/config-$rel"
        rm -rf "$work"
        return 1
    fi
    rm -rf "$dir.tmp" "$dir"
    mkdir -p "$dir.tmp"
    mv "$work/root/boot/vmlinuz-$rel" "$dir.tmp/vmlinuz"
    mv "$work/root/boot/config-$rel" "$dir.tmp/config"
    dpkg-deb -f "$deb" Version >"$dir.tmp/version"
    rm -rf "$work"
    mv "$dir.tmp" "$dir"
    log "$series: $rel ($(cat "$dir/version")) in $((SECONDS - t0))s"
}

fails=0
for series in "$@"; do
    pat=$(pattern_of "$series") || { log "unknown series $series (know 5.10, 6.1, 6.12)"; fails=$((fails + 1)); continue; }
    # Newest first. A mirror may list a release whose file it does not serve
    # (yet/any more): try a few before giving up.
    mapfile -t rels < <(apt-cache "${OPTS[@]}" search --names-only "$pat" 2>/dev/null | awk '{print $1}' |
        sed -E 's/^linux-image-//; s/-unsigned$//' | sort -Vr | head -n 5)
    if [[ ${#rels[@]} -eq 0 ]]; then
        # No lists (offline)? Fall back to the newest release already cached.
        mapfile -t rels < <(ls "$CACHE/kernels" 2>/dev/null | grep -E "^${series//./\\.}[.+-]" | grep -v '\.tmp$' | sort -Vr | head -n1)
        [[ ${#rels[@]} -gt 0 ]] || { log "$series: apt knows no package matching $pat"; fails=$((fails + 1)); continue; }
        log "$series: no package lists; using cached ${rels[0]}"
    fi
    got=""
    for rel in "${rels[@]}"; do
        dir="$CACHE/kernels/$rel"
        grep -qxF "$rel" "$CACHE/kernels/unavailable" 2>/dev/null && continue
        if [[ -s "$dir/vmlinuz" && -s "$dir/config" ]] || fetch_release "$series" "$rel"; then
            got="$rel"
            break
        fi
    done
    if [[ -z "$got" ]]; then
        fails=$((fails + 1))
        continue
    fi
    [[ "$got" == "${rels[0]}" ]] || log "$series: using $got (newer ${rels[0]} not downloadable)"
    echo "$series $got $CACHE/kernels/$got"
done
exit $((fails > 0))
