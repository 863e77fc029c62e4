#!/usr/bin/env bash
# The PC/SC transport (src/transport/pcsc.rs) and the vpcd bridge (src/emulator/vpcd.rs) against
# a real pcscd + vpcd: listing, insertion/removal events, transactions, reset by another
# application, reconnect, timeout and cancellation (tests/e2e/pcsc_vpcd.rs, a toy card).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
start_pcscd
cd "$E2E_ROOT"
check "PC/SC transport through pcscd + vpcd (cargo test --test pcsc_vpcd -- --ignored)" \
  cargo test -q --test pcsc_vpcd -- --ignored --test-threads=1
