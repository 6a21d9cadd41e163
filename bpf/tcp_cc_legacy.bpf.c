// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* tcp_cc.bpf.c in `.struct_ops` (registered by the map update: kernels
 * without struct_ops links), named `tinybpf_cc_old`. */
#define TCP_CC_LEGACY
#include "tcp_cc.bpf.c"
