/*
 * libFuzzer target: the PE/COFF Authenticode digest and the TDX RTMR 1 and 2 model on an
 * untrusted kernel image (measure tdx --kernel). The last input byte picks QEMU's setup-header
 * patch, the one before it the memory size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "measure/measure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t d[64];
    size_t n = 0;
    char err[256];
    struct cvma_tdx_rtmr_out out;
    if (cvma_pe_authenticode(data, size, "SHA384", d, sizeof d, &n, err, sizeof err) && n != 48) {
        abort();
    }
    struct cvma_tdx_rtmr_in in = {
            .kernel = data,
            .kernel_len = size,
            .initrd = data,
            .initrd_len = size / 2,
            .append = "console=hvc0",
            .qemu_patch = size > 0 && (data[size - 1] & 1),
            .mem_size = size > 1 ? (uint64_t)data[size - 2] << 26 : 0,
    };
    /* A prediction always replays from its own events. */
    if (cvma_measure_tdx_rtmr(&in, &out, err, sizeof err) &&
        (!cvma_tdx_rtmr_replay(out.rtmr1_events[0], out.n_rtmr1, d) ||
         memcmp(d, out.rtmr1, 48) != 0)) {
        abort();
    }
    return 0;
}
