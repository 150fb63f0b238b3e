#!/usr/bin/env bash
# Installs the Debian packages Weir needs to build, test and run, if any are missing.
# Idempotent and quiet when everything is already there. Needs root (or sudo) only to install.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config git ca-certificates
  # engine
  libboost-dev libssl-dev libsqlite3-dev nlohmann-json3-dev librocksdb-dev
  # tests: certificates for the TLS tests are made with the openssl command
  openssl
  # workbench (Qt 6 / Qt Quick) and its QML modules
  qt6-base-dev qt6-declarative-dev qt6-charts-dev qt6-websockets-dev qt6-svg-dev qt6-qpa-plugins
  qml6-module-qtquick qml6-module-qtquick-controls qml6-module-qtquick-templates
  qml6-module-qtquick-shapes qml6-module-qtquick-layouts qml6-module-qtquick-dialogs
  qml6-module-qtquick-window qml6-module-qtqml-workerscript qml6-module-qtcharts qml6-module-qttest
  qml6-module-qtqml-models qml6-module-qt-labs-settings qml6-module-qt-labs-platform
  # the non-native file dialogs (QtQuick.Dialogs) list folders with Qt.labs.folderlistmodel
  qml6-module-qt-labs-folderlistmodel
  # fonts so the UI renders text the same everywhere
  fonts-dejavu-core
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deps: installing ${#missing[@]} missing package(s): ${missing[*]}"
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
