#!/usr/bin/env bash
# What the relationship managers' pages need beyond Python, from the Debian packages:
#   chromium       headless browser for the page tests (pages, console errors, screenshots)
#   fonts-noto-cjk Chinese glyphs for pages, charts and the PDF report (without it: boxes)
#   poppler-utils  pdftotext / pdfinfo, to check the PDF report's pages and text
#   pango, harfbuzz-subset  the libraries WeasyPrint renders the PDF report with (the server needs them too)
# Idempotent: installs only what is missing. Prints the Chromium path on stdout.
set -euo pipefail

find_chromium() { command -v chromium || command -v chromium-browser || true; }
have_cjk_font() { fc-list :lang=zh 2>/dev/null | grep . >/dev/null; }

missing=()
[ -n "$(find_chromium)" ] || missing+=(chromium)
have_cjk_font || missing+=(fonts-noto-cjk)
command -v pdftotext >/dev/null || missing+=(poppler-utils)
have_lib() { ldconfig -p 2>/dev/null | grep "$1" >/dev/null; }
have_lib libpangoft2-1.0.so.0 || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
have_lib libharfbuzz-subset.so.0 || missing+=(libharfbuzz-subset0)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing from the Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" fontconfig >&2
  fc-cache -f >/dev/null 2>&1 || true
fi
find_chromium
