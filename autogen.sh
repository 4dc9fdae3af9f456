#!/bin/sh
# Regenerates the build system; needs autoconf, automake and pkg-config.
set -e
cd "$(dirname "$0")"
autoreconf -fi
