/* Which Vulkan device each MPI rank of a node opens: a pure function, tested on synthetic device
 * lists (nodes with several GPUs this machine does not have).
 *
 * Automatic: the best class with a compute queue (discrete > integrated > virtual > CPU), in PCI
 * bus order (domain, bus, device, function; VK_EXT_pci_bus_info), devices without PCI
 * information after those with it in UUID order: local rank r takes device r % count, the same
 * GPU for the same rank whatever order the driver enumerates them in. Explicit (--device /
 * VKDP_DEVICE): one index for every rank, or a list with one index per local rank. */
#ifndef VKDP_DEVSEL_H
#define VKDP_DEVSEL_H
#include <stddef.h>
#include <stdint.h>

#define VKDP_MAX_DEVICE_LIST 64

typedef struct {
    int index;          /* physical-device index (enumeration order) */
    int class_rank;     /* 4 discrete, 3 integrated, 2 virtual, 1 CPU, 0 other */
    int has_compute;
    int has_pci;
    uint32_t pci_domain, pci_bus, pci_device, pci_function;
    uint8_t uuid[16];
} vkdp_devsel_dev;

typedef struct {
    int index;          /* the physical device this rank opens */
    int candidates;     /* devices the node's ranks are spread over */
    int shared;         /* 1: more local ranks than those devices: some ranks share one */
} vkdp_devsel;

/* list/nlist: explicit indices (nlist 0: automatic). Returns 0, or -1 with err set. */
int vkdp_device_select(const vkdp_devsel_dev *devs, int n, const int *list, int nlist, int local_rank,
                       int local_size, vkdp_devsel *out, char *err, size_t errlen);

/* "N" or "N,M,...": indices in 0..VKDP_MAX_DEVICE_LIST-1. Returns the count, or -1 with err set. */
int vkdp_parse_device_list(const char *s, int *list, char *err, size_t errlen);

#endif
