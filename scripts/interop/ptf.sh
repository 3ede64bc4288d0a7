#!/bin/bash
# posttls-finger with a private resolv.conf (-> unbound 127.0.0.54, trust-ad) in its own mount namespace;
# /etc/resolv.conf itself is untouched for the rest of the system.
exec unshare -m sh -c 'mount --bind ${MXTLS_INTEROP_DIR:-/tmp/mxtls-interop}/lab/resolv.conf /etc/resolv.conf && exec env MAIL_CONFIG=${MXTLS_INTEROP_DIR:-/tmp/mxtls-interop}/lab/ptf posttls-finger "$@"' ptf "$@"
