#!/bin/sh
# fetch_pynn_source.sh DEST: puts PyNN 0.10.1's source release (Debian's
# pynn_0.10.1.orig.tar.gz, unpacked) into DEST/pyNN-0.10.1 for the scenario driver.
# Uses `apt-get source --download-only` with a deb-src entry in a temporary apt
# configuration of its own (the system's apt lists are not touched); if that fails it
# downloads the same .orig.tar.gz from the Debian archive. Exits 0 when DEST/pyNN-0.10.1
# holds test/system/scenarios, else non-zero.
set -eu
dest=$1
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
src="$dest/pyNN-0.10.1"
if [ -d "$src/test/system/scenarios" ]; then exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/etc/sources.list.d"
echo "deb-src http://deb.debian.org/debian bookworm main" > "$tmp/etc/sources.list"
opts="-o Dir::Etc::SourceList=$tmp/etc/sources.list -o Dir::Etc::SourceParts=$tmp/etc/sources.list.d
 -o Dir::State::Lists=$tmp/lists -o Dir::Cache=$tmp/cache -o APT::Sandbox::User=root"
tarball=""
if apt-get $opts update >"$tmp/update.log" 2>&1 &&
   (cd "$tmp" && apt-get $opts source --download-only pynn=0.10.1-2 >"$tmp/source.log" 2>&1); then
    tarball=$(ls "$tmp"/pynn_0.10.1.orig.tar.* 2>/dev/null | head -1 || true)
fi
if [ -z "$tarball" ]; then
    url=http://deb.debian.org/debian/pool/main/p/pynn/pynn_0.10.1.orig.tar.gz
    if command -v curl >/dev/null; then curl -fsSL -o "$tmp/pynn_0.10.1.orig.tar.gz" "$url"
    else /usr/bin/python3 -c "import sys,urllib.request;urllib.request.urlretrieve(sys.argv[1],sys.argv[2])" "$url" "$tmp/pynn_0.10.1.orig.tar.gz"; fi
    tarball="$tmp/pynn_0.10.1.orig.tar.gz"
fi
mkdir -p "$tmp/x"
tar -xf "$tarball" -C "$tmp/x"
top=$(ls "$tmp/x" | head -1)
rm -rf "$src"
mv "$tmp/x/$top" "$src"
test -d "$src/test/system/scenarios"
