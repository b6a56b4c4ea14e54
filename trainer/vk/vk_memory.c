/* The device's memory plan and raw allocations: which types (vkdp/vk/memplan.h), the emulated
 * BAR budget of VKDP_FORCE_STAGING, and flush/invalidate of mappings that are not coherent. */
#include <string.h>

#include "vk_internal.h"

#define BUFFER_USAGE                                                                            \
    (VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |                    \
     VK_BUFFER_USAGE_TRANSFER_DST_BIT)

/* Every buffer vkdp creates has this usage, so one probe tells every buffer's memoryTypeBits. */
static uint32_t buffer_type_bits(vkdp_device *dev)
{
    VkBufferCreateInfo bi = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = 4096,
        .usage = BUFFER_USAGE,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkBuffer b;
    VK_CHECK(vkCreateBuffer(dev->device, &bi, NULL, &b));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(dev->device, b, &req);
    vkDestroyBuffer(dev->device, b, NULL);
    return req.memoryTypeBits;
}

void vk_memory_init(vkdp_device *dev, int compile_only)
{
    VkPhysicalDeviceProperties pr;
    vkGetPhysicalDeviceProperties(dev->phys, &pr);
    dev->atom = pr.limits.nonCoherentAtomSize ? pr.limits.nonCoherentAtomSize : 1;
    VkPhysicalDeviceMemoryProperties real;
    vkGetPhysicalDeviceMemoryProperties(dev->phys, &real);
    dev->plan.device = dev->plan.device_fallback = VKDP_MEMTYPE_NONE;
    dev->plan.staging = dev->plan.readback = VKDP_MEMTYPE_NONE;
    if (compile_only)
        return; /* RADV's no-hardware device has no memory at all */

    uint32_t real_bits = buffer_type_bits(dev);
    dev->force_noncoherent = (int)vk_env_long("VKDP_FORCE_NONCOHERENT", 0, 0, 1);
    if (vk_env_long("VKDP_FORCE_STAGING", 0, 0, 1)) {
        dev->bar_bytes = (uint64_t)vk_env_long("VKDP_BAR_MB", 256, 1, 1 << 20) << 20;
        if (vkdp_memprops_emulate_bar(&real, dev->bar_bytes, &dev->memprops, dev->real_type, &dev->bar_heap))
            VKDP_FATAL("VKDP_FORCE_STAGING: device %s has too many memory types to emulate a BAR heap",
                       dev->info.name);
        dev->emulated = 1;
    } else {
        dev->memprops = real;
        for (uint32_t t = 0; t < real.memoryTypeCount; t++)
            dev->real_type[t] = t;
    }
    if (vkdp_memplan_choose(&dev->memprops, vk_memory_planned_bits(dev, real_bits), &dev->plan))
        VKDP_FATAL("device %s: %s", dev->info.name, dev->plan.why);
}

uint32_t vk_memory_planned_bits(const vkdp_device *dev, uint32_t real_bits)
{
    uint32_t bits = 0;
    for (uint32_t t = 0; t < dev->memprops.memoryTypeCount; t++)
        if (real_bits >> dev->real_type[t] & 1u)
            bits |= 1u << t;
    return bits;
}

static int in_bar(const vkdp_device *dev, uint32_t type)
{
    return dev->emulated && dev->memprops.memoryTypes[type].heapIndex == dev->bar_heap;
}

VkResult vk_memory_alloc(vkdp_device *dev, uint32_t type, uint64_t size, VkDeviceMemory *mem)
{
    if (type >= dev->memprops.memoryTypeCount)
        VKDP_FATAL("memory type %u of %u planned types", type, dev->memprops.memoryTypeCount);
    if (in_bar(dev, type) && size > dev->bar_bytes - dev->bar_used)
        return VK_ERROR_OUT_OF_DEVICE_MEMORY; /* what a full 256 MiB BAR answers */
    VkMemoryAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = size,
        .memoryTypeIndex = dev->real_type[type],
    };
    VkResult r = vkAllocateMemory(dev->device, &ai, NULL, mem);
    if (r == VK_SUCCESS && in_bar(dev, type))
        dev->bar_used += size;
    return r;
}

void vk_memory_free(vkdp_device *dev, uint32_t type, uint64_t size, VkDeviceMemory mem)
{
    vkFreeMemory(dev->device, mem, NULL);
    if (in_bar(dev, type))
        dev->bar_used -= size;
}

int vk_memtype_coherent(const vkdp_device *dev, uint32_t type)
{
    return !dev->force_noncoherent &&
           (dev->memprops.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
}

static VkMappedMemoryRange atom_range(const vkdp_device *dev, VkDeviceMemory mem, uint64_t mem_size,
                                      uint64_t off, uint64_t size)
{
    uint64_t lo = off / dev->atom * dev->atom;
    uint64_t hi = (off + size + dev->atom - 1) / dev->atom * dev->atom;
    VkMappedMemoryRange r = {
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
        .memory = mem,
        .offset = lo,
        .size = hi >= mem_size ? VK_WHOLE_SIZE : hi - lo,
    };
    return r;
}

void vk_host_sync(vkdp_device *dev, VkDeviceMemory mem, uint64_t mem_size, int coherent, uint64_t off,
                  uint64_t size, int host_wrote)
{
    if (coherent)
        return;
    VkMappedMemoryRange r = atom_range(dev, mem, mem_size, off, size);
    if (host_wrote)
        VK_CHECK(vkFlushMappedMemoryRanges(dev->device, 1, &r));
    else
        VK_CHECK(vkInvalidateMappedMemoryRanges(dev->device, 1, &r));
}

void vkdp_memplan_describe(const vkdp_device *dev, char *out, size_t outlen)
{
    const vkdp_memplan *p = &dev->plan;
    const char *emu = dev->emulated ? " (VKDP_FORCE_STAGING: emulated BAR heap)" : "";
    if (p->device == VKDP_MEMTYPE_NONE)
        snprintf(out, outlen, "none (compile-only device)");
    else if (p->direct)
        snprintf(out, outlen, "direct: tensors in memory type %u, mapped%s", dev->real_type[p->device], emu);
    else
        snprintf(out, outlen,
                 "staged: tensors in memory type %u, %llu-byte staging ring in type %u, %llu-byte "
                 "readback in type %u%s",
                 dev->real_type[p->device], (unsigned long long)dev->xfer.ring.size, dev->real_type[p->staging],
                 (unsigned long long)dev->xfer.readback.size, dev->real_type[p->readback], emu);
}
