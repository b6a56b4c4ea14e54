/* Rank -> device mapping on synthetic device lists (nodes with several GPUs, enumerated out of
 * bus order, mixed with a CPU driver), --device lists, and their errors. No device needed. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

#include "vkdp/vk/devsel.h"


static vkdp_devsel_dev gpu(int index, int rank, uint32_t bus, uint8_t uuid0)
{
    vkdp_devsel_dev d;
    memset(&d, 0, sizeof d);
    d.index = index;
    d.class_rank = rank;
    d.has_compute = 1;
    d.has_pci = bus != 0xffffffffu;
    d.pci_bus = d.has_pci ? bus : 0;
    d.uuid[0] = uuid0;
    return d;
}

/* The device each of local_size ranks opens, as "a,b,c"; "error: ..." on failure. */
static const char *map(const vkdp_devsel_dev *d, int n, const char *list, int local_size, int *shared)
{
    static char out[512];
    int l[VKDP_MAX_DEVICE_LIST], nl = 0;
    char err[256];
    if (list && (nl = vkdp_parse_device_list(list, l, err, sizeof err)) < 0) {
        snprintf(out, sizeof out, "error: %s", err);
        return out;
    }
    size_t len = 0;
    out[0] = 0;
    for (int r = 0; r < local_size; r++) {
        vkdp_devsel s;
        if (vkdp_device_select(d, n, l, nl, r, local_size, &s, err, sizeof err)) {
            snprintf(out, sizeof out, "error: %s", err);
            return out;
        }
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%d", r ? "," : "", s.index);
        *shared = s.shared;
    }
    return out;
}

#define EXPECT_MAP(devs, n, list, ranks, want, want_shared)                                       \
    do {                                                                                          \
        int sh = -1;                                                                              \
        const char *got = map(devs, n, list, ranks, &sh);                                         \
        EXPECT(!strcmp(got, want) && (want_shared < 0 || sh == want_shared),                      \
               "%-40s list %-8s %d ranks -> %s (shared %d)", #devs, list ? list : "auto", ranks, got, sh); \
    } while (0)

int main(void)
{
    /* 4 GPUs enumerated out of bus order (the loader does not promise any order). */
    vkdp_devsel_dev four[] = {gpu(0, 4, 0xc1, 9), gpu(1, 4, 0x01, 8), gpu(2, 4, 0x81, 7), gpu(3, 4, 0x41, 6)};
    EXPECT_MAP(four, 4, NULL, 4, "1,3,2,0", 0);
    EXPECT_MAP(four, 4, NULL, 2, "1,3", 0);
    EXPECT_MAP(four, 4, NULL, 8, "1,3,2,0,1,3,2,0", 1);
    EXPECT_MAP(four, 4, "2", 3, "2,2,2", 1);
    EXPECT_MAP(four, 4, "3,2,1,0", 4, "3,2,1,0", 0);
    EXPECT_MAP(four, 4, "0,0,1,1", 4, "0,0,1,1", 1);
    EXPECT_MAP(four, 4, "0,1,2,3", 2, "0,1", 0);
    EXPECT_MAP(four, 4, "0,1", 3, "error: the device list names 2 devices but this node runs 3 ranks (local rank 2 has none)", -1);
    EXPECT_MAP(four, 4, "7", 1, "error: device 7 requested but only 4 Vulkan device(s) exist (see `trainer devices`)", -1);
    EXPECT_MAP(four, 4, "1,x", 1, "error: '1,x' is not a device index or a comma-separated list of them", -1);
    EXPECT_MAP(four, 4, "1,", 1, "error: '1,' is not a device index or a comma-separated list of them", -1);
    EXPECT_MAP(four, 4, "-1", 1, "error: '-1' is not a device index or a comma-separated list of them", -1);
    EXPECT_MAP(four, 4, "64", 1, "error: '64': indices must be below 64, at most 64 of them", -1);

    /* Two domains: domain orders before bus. */
    vkdp_devsel_dev dom[] = {gpu(0, 4, 0x01, 0), gpu(1, 4, 0x02, 0)};
    dom[0].pci_domain = 1;
    EXPECT_MAP(dom, 2, NULL, 2, "1,0", 0);

    /* A GPU node that also has lavapipe installed: ranks spread over the GPUs only. */
    vkdp_devsel_dev mixed[] = {gpu(0, 1, 0xffffffffu, 0), gpu(1, 4, 0x65, 2), gpu(2, 4, 0x17, 3)};
    EXPECT_MAP(mixed, 3, NULL, 2, "2,1", 0);
    EXPECT_MAP(mixed, 3, "0", 2, "0,0", 1);

    /* Without VK_EXT_pci_bus_info: UUID order; devices with a bus address come first. */
    vkdp_devsel_dev nopci[] = {gpu(0, 4, 0xffffffffu, 0x30), gpu(1, 4, 0xffffffffu, 0x10), gpu(2, 4, 0x05, 0x20)};
    EXPECT_MAP(nopci, 3, NULL, 3, "2,1,0", 0);

    /* A device without a compute queue is never chosen, and named when asked for. */
    vkdp_devsel_dev nocomp[] = {gpu(0, 4, 0x01, 0), gpu(1, 3, 0x02, 0)};
    nocomp[0].has_compute = 0;
    EXPECT_MAP(nocomp, 2, NULL, 2, "1,1", 1);
    EXPECT_MAP(nocomp, 2, "0", 1, "error: device 0 has no compute queue", -1);

    /* lavapipe alone: every rank on the one CPU device. */
    vkdp_devsel_dev lvp[] = {gpu(0, 1, 0xffffffffu, 0)};
    EXPECT_MAP(lvp, 1, NULL, 4, "0,0,0,0", 1);
    EXPECT_MAP(lvp, 0, NULL, 1, "error: no Vulkan physical device found; install mesa-vulkan-drivers (lavapipe) or a GPU driver", -1);

    return test_summary();
}
