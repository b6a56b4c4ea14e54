/* Which memory types hold tensors, uploads and readbacks: a pure function of the device's memory
 * table, so that it can be tested on the tables of GPUs this machine does not have.
 *
 * Two plans come out of it:
 *  - direct: tensors live in memory that is device-local AND host-visible AND host-cached (a CPU
 *    driver, an integrated GPU): uploads and downloads are memcpy into the mapping;
 *  - staged: tensors live in device-local memory the host never maps (a discrete GPU's VRAM);
 *    uploads go through a host-visible staging ring and a copy, downloads through a copy into
 *    host-cached readback memory. A small BAR (256 MiB of host-visible VRAM without resizable BAR)
 *    is then never used for tensors.
 * Memory that is not host-coherent is flushed after host writes and invalidated before host reads.
 *
 * VKDP_FORCE_STAGING=1 runs the staged plan on any device by planning over an emulated table
 * (vkdp_memprops_emulate_bar): every device-local type loses its host access, and host access to
 * device-local memory is only through a "BAR" heap of VKDP_BAR_MB (default 256) MiB. */
#ifndef VKDP_MEMPLAN_H
#define VKDP_MEMPLAN_H
#include <stdint.h>
#include <vulkan/vulkan.h>

#define VKDP_MEMTYPE_NONE UINT32_MAX

typedef struct {
    int direct;               /* 1: tensors are mapped; 0: staged */
    uint32_t device;          /* type of tensors */
    uint32_t device_fallback; /* when the device type's heap is full (host memory), or NONE */
    uint32_t staging;         /* host-visible type of the upload ring (staged only), or NONE */
    uint32_t readback;        /* host-visible, preferably cached, type of downloads, or NONE */
    char why[160];            /* the reason when vkdp_memplan_choose fails */
} vkdp_memplan;

/* Flags a type must not have: they need features vkdp does not enable (protected memory, AMD's
 * device-coherent memory, RDMA) or have no backing (lazily allocated). */
#define VKDP_MEMTYPE_EXCLUDED_FLAGS                                                              \
    (VK_MEMORY_PROPERTY_PROTECTED_BIT | VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT |              \
     VK_MEMORY_PROPERTY_DEVICE_COHERENT_BIT_AMD | VK_MEMORY_PROPERTY_DEVICE_UNCACHED_BIT_AMD |  \
     VK_MEMORY_PROPERTY_RDMA_CAPABLE_BIT_NV)

/* buffer_type_bits: memoryTypeBits of a storage buffer (same for every buffer vkdp creates).
 * Returns 0, or -1 with plan->why set when no usable type exists. */
int vkdp_memplan_choose(const VkPhysicalDeviceMemoryProperties *mp, uint32_t buffer_type_bits,
                        vkdp_memplan *plan);

/* The staged-plan emulation: virt gets the emulated table, real_type[v] the real type behind
 * virtual type v, *bar_heap the index of the emulated BAR heap (bar_bytes large). Returns 0, or
 * -1 when the emulated table would exceed VK_MAX_MEMORY_TYPES / HEAPS. */
int vkdp_memprops_emulate_bar(const VkPhysicalDeviceMemoryProperties *real, uint64_t bar_bytes,
                              VkPhysicalDeviceMemoryProperties *virt, uint32_t *real_type,
                              uint32_t *bar_heap);

/* "DEVICE_LOCAL|HOST_VISIBLE|..." for a type's flags ("none" for 0). */
void vkdp_memflags_str(VkMemoryPropertyFlags f, char *out, size_t outlen);

#endif
