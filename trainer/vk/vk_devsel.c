/* Rank -> device mapping and --device lists (pure: see vkdp/vk/devsel.h). */
#include "vkdp/vk/devsel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_bus(const void *pa, const void *pb)
{
    const vkdp_devsel_dev *a = *(const vkdp_devsel_dev *const *)pa, *b = *(const vkdp_devsel_dev *const *)pb;
    if (a->has_pci != b->has_pci)
        return b->has_pci - a->has_pci;
    if (a->has_pci) {
        uint32_t ka[4] = {a->pci_domain, a->pci_bus, a->pci_device, a->pci_function};
        uint32_t kb[4] = {b->pci_domain, b->pci_bus, b->pci_device, b->pci_function};
        for (int i = 0; i < 4; i++)
            if (ka[i] != kb[i])
                return ka[i] < kb[i] ? -1 : 1;
    }
    int c = memcmp(a->uuid, b->uuid, sizeof a->uuid);
    if (c)
        return c;
    return (a->index > b->index) - (a->index < b->index);
}

static const vkdp_devsel_dev *find(const vkdp_devsel_dev *devs, int n, int index)
{
    for (int i = 0; i < n; i++)
        if (devs[i].index == index)
            return &devs[i];
    return NULL;
}

int vkdp_device_select(const vkdp_devsel_dev *devs, int n, const int *list, int nlist, int local_rank,
                       int local_size, vkdp_devsel *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (local_size < 1 || local_rank < 0 || local_rank >= local_size) {
        snprintf(err, errlen, "local rank %d of %d ranks", local_rank, local_size);
        return -1;
    }
    if (n < 1) {
        snprintf(err, errlen, "no Vulkan physical device found; install mesa-vulkan-drivers "
                              "(lavapipe) or a GPU driver");
        return -1;
    }
    if (nlist > 0) {
        if (nlist > 1 && local_rank >= nlist) {
            snprintf(err, errlen, "the device list names %d devices but this node runs %d ranks "
                                  "(local rank %d has none)", nlist, local_size, local_rank);
            return -1;
        }
        for (int i = 0; i < nlist; i++) {
            const vkdp_devsel_dev *d = find(devs, n, list[i]);
            if (!d) {
                snprintf(err, errlen, "device %d requested but only %d Vulkan device(s) exist (see "
                                      "`trainer devices`)", list[i], n);
                return -1;
            }
            if (!d->has_compute) {
                snprintf(err, errlen, "device %d has no compute queue", list[i]);
                return -1;
            }
        }
        out->index = nlist == 1 ? list[0] : list[local_rank];
        /* distinct devices among the ranks of this node */
        int used = nlist == 1 ? 1 : (local_size < nlist ? local_size : nlist);
        int distinct = 0;
        for (int i = 0; i < used; i++) {
            int dup = 0;
            for (int j = 0; j < i; j++)
                dup |= list[j] == list[i];
            distinct += !dup;
        }
        out->candidates = distinct;
        out->shared = local_size > distinct;
        return 0;
    }
    int best = -1, count = 0;
    for (int i = 0; i < n; i++)
        if (devs[i].has_compute && devs[i].class_rank > best)
            best = devs[i].class_rank;
    if (best < 0) {
        snprintf(err, errlen, "no Vulkan device with a compute queue");
        return -1;
    }
    const vkdp_devsel_dev **c = calloc((size_t)n, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (devs[i].has_compute && devs[i].class_rank == best)
            c[count++] = &devs[i];
    qsort(c, (size_t)count, sizeof *c, by_bus);
    out->index = c[local_rank % count]->index;
    out->candidates = count;
    out->shared = local_size > count;
    free(c);
    return 0;
}

int vkdp_parse_device_list(const char *s, int *list, char *err, size_t errlen)
{
    int n = 0;
    const char *p = s;
    if (!s || !*s) {
        snprintf(err, errlen, "empty device list");
        return -1;
    }
    for (;;) {
        char *end;
        if (*p < '0' || *p > '9') {
            snprintf(err, errlen, "'%s' is not a device index or a comma-separated list of them", s);
            return -1;
        }
        long v = strtol(p, &end, 10);
        if (v >= VKDP_MAX_DEVICE_LIST || n == VKDP_MAX_DEVICE_LIST) {
            snprintf(err, errlen, "'%s': indices must be below %d, at most %d of them", s,
                     VKDP_MAX_DEVICE_LIST, VKDP_MAX_DEVICE_LIST);
            return -1;
        }
        list[n++] = (int)v;
        if (*end == 0)
            return n;
        if (*end != ',') {
            snprintf(err, errlen, "'%s' is not a device index or a comma-separated list of them", s);
            return -1;
        }
        p = end + 1;
    }
}
