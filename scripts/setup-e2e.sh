#!/usr/bin/env bash
# Installs everything the end-to-end tests need: Debian chromium + the toolchain code-server's
# native modules are built with, and code-server 4.100.3 in its own folder outside the project's
# dependency tree (it is ~300 MB and test-only). Idempotent and non-interactive; meant to run as
# root from `.ci/run` on a fresh machine, and to be nearly free on the second run.
#
# Environment:
#   GRADFLOW_E2E_HOME   tooling folder (default $HOME/.cache/gradflow-e2e); code-server goes to
#                       $GRADFLOW_E2E_HOME/code-server. test/e2e/harness.ts reads the same variable.
#   GRADFLOW_E2E_FORCE=1  reinstall code-server even if the marker says it is complete.
#
# Why each npm setting (see /work/shared/docs/environment.md, "Real VS Code for end-to-end tests"):
#   unsafe_perm=true      code-server's postinstall.sh refuses to run as root without it.
#   nodedir=/usr          node-gyp uses the local Node headers instead of downloading them.
#   yes=true              node-pty's install runs `npx node-gyp`; npx must not prompt.
#   NODE_GYP_FORCE_PYTHON    Debian's python3 for node-gyp, not whatever shim is first on PATH.
#   ignore_scripts=false + dangerously_allow_all_scripts=true
#       npm 11 has an `allowScripts` policy for dependency install scripts. Measured with npm
#       11.19.1: with no policy configured they still run (an install without the flag produced
#       every native module), but code-server *is* its postinstall (it installs VS Code's own
#       dependencies in lib/vscode, in nested `npm install`s whose package.json we do not control)
#       and a later npm that skips unreviewed scripts would give a silently broken install. The env
#       variables reach the nested npm processes too; older npms ignore the unknown key. Scope:
#       this throwaway tooling folder only, never the project install. Step 2d checks the
#       artifacts either way and fails loudly if a script did not run.
set -euo pipefail

CS_VERSION="4.100.3"
E2E_HOME="${GRADFLOW_E2E_HOME:-$HOME/.cache/gradflow-e2e}"
CS_DIR="$E2E_HOME/code-server"
CS_PKG="$CS_DIR/node_modules/code-server"
MARKER="$CS_DIR/.gradflow-e2e-complete"
# iproute2: `ip link set lo up` in the offline code-server's network namespace (harness.ts `offline`).
APT_PACKAGES=(chromium build-essential python3 libkrb5-dev ripgrep fonts-dejavu-core iproute2)

t0=$(date +%s)
log() { printf '[setup-e2e +%ss] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }

if [ "$(id -u)" != 0 ]; then
  echo "setup-e2e.sh: must run as root (apt-get install)" >&2
  exit 1
fi

# ---------------------------------------------------------------------------------------------
# 1. Debian packages. Only touch apt when something is missing; `apt-get update` once, and only
#    then (it is the slow part and needs the network).
# ---------------------------------------------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  # --no-install-recommends keeps chromium from pulling in ~200 MB of desktop extras; the font
  # package above is the one recommend we want (screenshots without fonts show boxes).
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  log "apt: done"
else
  log "apt: all present (${APT_PACKAGES[*]})"
fi
for b in /usr/bin/chromium /usr/bin/rg /usr/bin/python3 /usr/bin/make /usr/bin/g++ /usr/sbin/ip /usr/bin/unshare; do
  [ -x "$b" ] || { echo "setup-e2e.sh: $b missing after apt-get install" >&2; exit 1; }
done

# ---------------------------------------------------------------------------------------------
# 2. code-server. Complete = marker written by a previous successful run + the artifacts the
#    postinstall / native builds produce. Checked every time, so a half-finished install (killed
#    mid-way) is redone rather than trusted.
# ---------------------------------------------------------------------------------------------
native_artifacts() {
  # The files that exist only if install scripts really ran (npm 11 may silently skip them).
  local v="$CS_PKG/lib/vscode"
  ls -d "$v/node_modules/node-pty/build/Release/pty.node" \
     "$v/node_modules/@vscode/spdlog/build/Release/spdlog.node" \
     "$v/node_modules/@vscode/ripgrep/bin/rg" \
     "$v/node_modules.asar" \
     "$v/extensions/node_modules" 2>/dev/null
}
installed_ok() {
  [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$CS_VERSION" ] || return 1
  [ "$(node -p "require('$CS_PKG/package.json').version" 2>/dev/null)" = "$CS_VERSION" ] || return 1
  [ "$(native_artifacts | wc -l)" -eq 5 ]
}

if [ "${GRADFLOW_E2E_FORCE:-0}" != 1 ] && installed_ok; then
  log "code-server $CS_VERSION: already installed in $CS_DIR"
else
  log "code-server $CS_VERSION: installing into $CS_DIR"
  rm -rf "$CS_DIR"
  mkdir -p "$CS_DIR" "$E2E_HOME/tmp"
  # Own TMPDIR: @vscode/ripgrep's postinstall looks for its tarball in $TMPDIR, and the nested
  # builds should not litter /tmp.
  export TMPDIR="$E2E_HOME/tmp"

  # 2a. Find the @vscode/ripgrep version (lib/vscode/npm-shrinkwrap.json) and the ripgrep tag
  #     (its lib/postinstall.js) from the registry tarballs, before installing, because the
  #     postinstall runs during the install. `npm pack` also warms the npm cache.
  work="$(mktemp -d)"
  (cd "$work" && npm pack --silent "code-server@$CS_VERSION" >/dev/null)
  tar -xzf "$work/code-server-$CS_VERSION.tgz" -C "$work" package/lib/vscode/npm-shrinkwrap.json
  rg_pkg_version="$(node -p "require('$work/package/lib/vscode/npm-shrinkwrap.json').packages['node_modules/@vscode/ripgrep'].version")"
  (cd "$work" && npm pack --silent "@vscode/ripgrep@$rg_pkg_version" >/dev/null)
  rg_tag="$(tar -xzOf "$work/vscode-ripgrep-$rg_pkg_version.tgz" package/lib/postinstall.js \
            | sed -n "s/^const VERSION = '\(v[^']*\)';.*/\1/p")"
  [ -n "$rg_tag" ] || { echo "setup-e2e.sh: could not read ripgrep tag from @vscode/ripgrep@$rg_pkg_version" >&2; exit 1; }

  # 2b. Pack Debian's rg as the asset the postinstall would have downloaded from GitHub. The
  #     postinstall extracts it with `tar xvf -C bin/` and expects `bin/rg`.
  rg_cache="$TMPDIR/vscode-ripgrep-cache-$rg_pkg_version"
  mkdir -p "$rg_cache" "$work/rg"
  cp /usr/bin/rg "$work/rg/rg"
  tar -czf "$rg_cache/ripgrep-$rg_tag-x86_64-unknown-linux-musl.tar.gz" -C "$work/rg" rg
  log "ripgrep: packed /usr/bin/rg as @vscode/ripgrep@$rg_pkg_version asset $rg_tag"

  # 2c. Install. A private package.json so this folder is its own npm project, unrelated to the
  #     repository (which must never gain code-server as a dependency).
  cat >"$CS_DIR/package.json" <<EOF
{ "name": "gradflow-e2e-tools", "private": true, "description": "code-server for Gradflow e2e tests (scripts/setup-e2e.sh)" }
EOF
  export npm_config_unsafe_perm=true npm_config_nodedir=/usr npm_config_yes=true \
         NODE_GYP_FORCE_PYTHON=/usr/bin/python3 npm_config_ignore_scripts=false \
         npm_config_dangerously_allow_all_scripts=true \
         npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false \
         npm_config_foreground_scripts=true JOBS=2
  # foreground_scripts: show the native builds' output in the log, so a failure is diagnosable.
  (cd "$CS_DIR" && npm install --no-save --loglevel=warn "code-server@$CS_VERSION") \
    >"$E2E_HOME/install.log" 2>&1 || {
      echo "setup-e2e.sh: npm install code-server failed; last lines of $E2E_HOME/install.log:" >&2
      tail -40 "$E2E_HOME/install.log" >&2
      exit 1
    }
  rm -rf "$work"
  log "code-server: npm install finished (log: $E2E_HOME/install.log)"

  # 2d. Verify the install scripts actually ran (an npm that skips them still exits 0).
  if [ "$(native_artifacts | wc -l)" -ne 5 ]; then
    echo "setup-e2e.sh: code-server's postinstall/native builds did not all run; found only:" >&2
    native_artifacts >&2 || true
    grep -iE 'allowScripts|skipp|not allowed' "$E2E_HOME/install.log" | head -20 >&2 || true
    exit 1
  fi
  echo "$CS_VERSION" >"$MARKER"
  log "code-server: native modules present:"
  native_artifacts | sed 's/^/    /'
fi

# Hermetic even here: without these, code-server writes a default config into ~/.config.
vtmp="$(mktemp -d)"
log "code-server --version: $(XDG_CONFIG_HOME="$vtmp" XDG_DATA_HOME="$vtmp" XDG_CACHE_HOME="$vtmp" \
  node "$CS_PKG/out/node/entry.js" --config "$vtmp/config.yaml" --version 2>/dev/null | tail -1)"
rm -rf "$vtmp"
log "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -1)"
log "done in $(( $(date +%s) - t0 ))s; code-server at $CS_PKG"
