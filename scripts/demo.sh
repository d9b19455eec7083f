#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main demo.
# For now the demo walks through the protocol layer (encode a paged QUERY in v5 with LZ4 segments,
# decode a Rows page zero-copy); it becomes the streaming demo against acass-server once streaming lands.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
install_packages
configure_and_build "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
log "running the codec demo"
"$BUILD_DIR/bin/codec_demo"
