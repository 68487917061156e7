#!/bin/sh
# Installs Chromium from Debian's packages when it is missing. The dashboard browser test
# (test/dashboard.browser.test.ts) drives /usr/bin/chromium with playwright-core and fails,
# rather than skips, without it. Called by CI before the test suite; safe to run repeatedly.
set -eu
if [ -x /usr/bin/chromium ]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium
/usr/bin/chromium --version
