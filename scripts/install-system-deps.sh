#!/usr/bin/env bash
# Optional Debian packages the engine and the browser tests use when present:
#   tesseract-ocr       the Tesseract binary (CHUNKR_OCR_ENGINE=tesseract; the tesserocr wheel is the default Tesseract)
#   libreoffice-*-nogui converts office files (DOCX, PPTX, XLSX, ODT, RTF, ...) to PDF; without it they fail clearly
#   chromium            the dashboard's browser tests (tests/browser) drive it through Playwright
# Without them everything else works and the tests that need them skip with a reason. Needs root and apt-get.
set -euo pipefail
packages=(tesseract-ocr tesseract-ocr-eng libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui
  fonts-dejavu-core chromium)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then echo "system packages: all present"; exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "system packages missing (${missing[*]}); run this script as root on Debian/Ubuntu to install them" >&2
  exit 0
fi
echo "installing: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
