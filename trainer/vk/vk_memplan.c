/* Memory-type choice from a device's memory table (pure: see vkdp/vk/memplan.h). */
#include "vkdp/vk/memplan.h"

#include <stdio.h>
#include <string.h>

#define DL VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT
#define HV VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT
#define HC VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
#define HCACHED VK_MEMORY_PROPERTY_HOST_CACHED_BIT

static int usable(const VkPhysicalDeviceMemoryProperties *mp, uint32_t bits, uint32_t t)
{
    return (bits >> t & 1u) && t < mp->memoryTypeCount &&
           !(mp->memoryTypes[t].propertyFlags & VKDP_MEMTYPE_EXCLUDED_FLAGS) &&
           mp->memoryTypes[t].heapIndex < mp->memoryHeapCount;
}

static uint64_t heap_size(const VkPhysicalDeviceMemoryProperties *mp, uint32_t t)
{
    return mp->memoryHeaps[mp->memoryTypes[t].heapIndex].size;
}

/* Host-visible type with the highest score (earliest on ties), or NONE. */
typedef int (*score_fn)(VkMemoryPropertyFlags f);

static uint32_t best_host_type(const VkPhysicalDeviceMemoryProperties *mp, uint32_t bits, score_fn score)
{
    uint32_t best = VKDP_MEMTYPE_NONE;
    int best_score = -1;
    for (uint32_t t = 0; t < mp->memoryTypeCount; t++) {
        VkMemoryPropertyFlags f = mp->memoryTypes[t].propertyFlags;
        if (!usable(mp, bits, t) || !(f & HV))
            continue;
        int s = score(f);
        if (s > best_score) {
            best_score = s;
            best = t;
        }
    }
    return best;
}

/* Uploads: coherent saves flushes; system memory keeps a small BAR free; write-combined
 * (uncached) memory is what sequential host writes want. */
static int staging_score(VkMemoryPropertyFlags f)
{
    return (f & HC ? 4 : 0) + (f & DL ? 0 : 2) + (f & HCACHED ? 0 : 1);
}

/* Downloads: host reads of uncached memory crawl, so cached first. */
static int readback_score(VkMemoryPropertyFlags f)
{
    return (f & HCACHED ? 4 : 0) + (f & HC ? 2 : 0) + (f & DL ? 0 : 1);
}

int vkdp_memplan_choose(const VkPhysicalDeviceMemoryProperties *mp, uint32_t bits, vkdp_memplan *plan)
{
    memset(plan, 0, sizeof *plan);
    plan->device = plan->device_fallback = plan->staging = plan->readback = VKDP_MEMTYPE_NONE;

    /* Tensors: the largest device-local heap; within it, a host-cached mapping means unified
     * memory (no copy needed), otherwise the type without host access (VRAM, not the BAR). */
    uint32_t dev = VKDP_MEMTYPE_NONE;
    for (uint32_t t = 0; t < mp->memoryTypeCount; t++) {
        VkMemoryPropertyFlags f = mp->memoryTypes[t].propertyFlags;
        if (!usable(mp, bits, t) || !(f & DL))
            continue;
        if (dev == VKDP_MEMTYPE_NONE || heap_size(mp, t) > heap_size(mp, dev)) {
            dev = t;
            continue;
        }
        if (heap_size(mp, t) < heap_size(mp, dev))
            continue;
        VkMemoryPropertyFlags g = mp->memoryTypes[dev].propertyFlags;
        int t_unified = (f & (HV | HCACHED)) == (HV | HCACHED);
        int d_unified = (g & (HV | HCACHED)) == (HV | HCACHED);
        if ((t_unified && !d_unified) || (!d_unified && !t_unified && (g & HV) && !(f & HV)))
            dev = t;
    }
    plan->readback = best_host_type(mp, bits, readback_score);
    if (dev == VKDP_MEMTYPE_NONE) {
        /* No device-local memory at all: the host-visible memory is all there is. */
        if (plan->readback == VKDP_MEMTYPE_NONE) {
            snprintf(plan->why, sizeof plan->why,
                     "no memory type usable for storage buffers (type bits 0x%x, %u types)", bits,
                     mp->memoryTypeCount);
            return -1;
        }
        plan->direct = 1;
        plan->device = plan->readback;
        plan->readback = VKDP_MEMTYPE_NONE;
        return 0;
    }
    plan->device = dev;
    VkMemoryPropertyFlags f = mp->memoryTypes[dev].propertyFlags;
    if ((f & (HV | HCACHED)) == (HV | HCACHED)) {
        plan->direct = 1;
        plan->readback = VKDP_MEMTYPE_NONE;
        return 0;
    }
    plan->staging = best_host_type(mp, bits, staging_score);
    if (plan->staging == VKDP_MEMTYPE_NONE || plan->readback == VKDP_MEMTYPE_NONE) {
        snprintf(plan->why, sizeof plan->why,
                 "device-local type %u has no host access and no host-visible type exists for "
                 "uploads (type bits 0x%x)", dev, bits);
        return -1;
    }
    /* Full VRAM: tensors go to host memory the device can read (slow, but the job runs). */
    for (uint32_t t = 0; t < mp->memoryTypeCount; t++)
        if (usable(mp, bits, t) && mp->memoryTypes[t].heapIndex != mp->memoryTypes[dev].heapIndex &&
            !(mp->memoryHeaps[mp->memoryTypes[t].heapIndex].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)) {
            plan->device_fallback = t;
            break;
        }
    return 0;
}

int vkdp_memprops_emulate_bar(const VkPhysicalDeviceMemoryProperties *real, uint64_t bar_bytes,
                              VkPhysicalDeviceMemoryProperties *virt, uint32_t *real_type,
                              uint32_t *bar_heap)
{
    memset(virt, 0, sizeof *virt);
    if (real->memoryHeapCount + 1 > VK_MAX_MEMORY_HEAPS)
        return -1;
    memcpy(virt->memoryHeaps, real->memoryHeaps, real->memoryHeapCount * sizeof *real->memoryHeaps);
    virt->memoryHeapCount = real->memoryHeapCount + 1;
    *bar_heap = real->memoryHeapCount;
    virt->memoryHeaps[*bar_heap].size = bar_bytes;
    virt->memoryHeaps[*bar_heap].flags = VK_MEMORY_HEAP_DEVICE_LOCAL_BIT;
    uint32_t n = 0;
    /* VRAM as the device sees it: device-local types without host access. */
    for (uint32_t t = 0; t < real->memoryTypeCount; t++) {
        VkMemoryType m = real->memoryTypes[t];
        if (m.propertyFlags & DL)
            m.propertyFlags &= ~(VkMemoryPropertyFlags)(HV | HC | HCACHED);
        if (n == VK_MAX_MEMORY_TYPES)
            return -1;
        real_type[n] = t;
        virt->memoryTypes[n++] = m;
    }
    /* The host's window into VRAM: the same types, host access kept, in the small BAR heap. */
    for (uint32_t t = 0; t < real->memoryTypeCount; t++) {
        VkMemoryType m = real->memoryTypes[t];
        if ((m.propertyFlags & (DL | HV)) != (DL | HV))
            continue;
        if (n == VK_MAX_MEMORY_TYPES)
            return -1;
        m.heapIndex = *bar_heap;
        real_type[n] = t;
        virt->memoryTypes[n++] = m;
    }
    virt->memoryTypeCount = n;
    return 0;
}

void vkdp_memflags_str(VkMemoryPropertyFlags f, char *out, size_t outlen)
{
    static const struct {
        VkMemoryPropertyFlags bit;
        const char *name;
    } names[] = {{DL, "DEVICE_LOCAL"},
                 {HV, "HOST_VISIBLE"},
                 {HC, "HOST_COHERENT"},
                 {HCACHED, "HOST_CACHED"},
                 {VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT, "LAZILY_ALLOCATED"},
                 {VK_MEMORY_PROPERTY_PROTECTED_BIT, "PROTECTED"},
                 {VK_MEMORY_PROPERTY_DEVICE_COHERENT_BIT_AMD, "DEVICE_COHERENT_AMD"},
                 {VK_MEMORY_PROPERTY_DEVICE_UNCACHED_BIT_AMD, "DEVICE_UNCACHED_AMD"},
                 {VK_MEMORY_PROPERTY_RDMA_CAPABLE_BIT_NV, "RDMA_CAPABLE_NV"}};
    size_t len = 0;
    out[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (f & names[i].bit) {
            int w = snprintf(out + len, outlen - len, "%s%s", len ? "|" : "", names[i].name);
            if (w < 0 || (size_t)w >= outlen - len)
                return;
            len += (size_t)w;
            f &= ~names[i].bit;
        }
    if (f)
        snprintf(out + len, outlen - len, "%s0x%x", len ? "|" : "", (unsigned)f);
    else if (!len)
        snprintf(out, outlen, "none");
}
