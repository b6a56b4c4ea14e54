/* Buffers sub-allocated from a few large device allocations (first fit, coalescing free list),
 * and their uploads/downloads: memcpy in the direct plan, the staging path otherwise. Each tensor
 * gets its own VkBuffer bound inside a block, so one binding never straddles blocks. */
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

static void block_free_insert(vk_block *b, uint64_t off, uint64_t size)
{
    int i = 0;
    while (i < b->nfree && b->free[i].off < off)
        i++;
    if (b->nfree == b->capfree) {
        b->capfree = b->capfree ? 2 * b->capfree : 16;
        b->free = vkdp_xrealloc(b->free, (size_t)b->capfree * sizeof *b->free);
    }
    memmove(&b->free[i + 1], &b->free[i], (size_t)(b->nfree - i) * sizeof *b->free);
    b->free[i].off = off;
    b->free[i].size = size;
    b->nfree++;
    /* coalesce with neighbours */
    if (i + 1 < b->nfree && b->free[i].off + b->free[i].size == b->free[i + 1].off) {
        b->free[i].size += b->free[i + 1].size;
        memmove(&b->free[i + 1], &b->free[i + 2], (size_t)(b->nfree - i - 2) * sizeof *b->free);
        b->nfree--;
    }
    if (i > 0 && b->free[i - 1].off + b->free[i - 1].size == b->free[i].off) {
        b->free[i - 1].size += b->free[i].size;
        memmove(&b->free[i], &b->free[i + 1], (size_t)(b->nfree - i - 1) * sizeof *b->free);
        b->nfree--;
    }
}

/* First fit with alignment; returns offset or UINT64_MAX. */
static uint64_t block_take(vk_block *b, uint64_t size, uint64_t align)
{
    for (int i = 0; i < b->nfree; i++) {
        uint64_t start = (b->free[i].off + align - 1) / align * align;
        uint64_t end = b->free[i].off + b->free[i].size;
        if (start + size > end)
            continue;
        vk_range r = b->free[i];
        memmove(&b->free[i], &b->free[i + 1], (size_t)(b->nfree - i - 1) * sizeof *b->free);
        b->nfree--;
        if (start > r.off)
            block_free_insert(b, r.off, start - r.off);
        if (end > start + size)
            block_free_insert(b, start + size, end - (start + size));
        return start;
    }
    return UINT64_MAX;
}

static int block_new(vkdp_device *dev, uint64_t size, uint32_t type_bits)
{
    uint32_t types[2] = {dev->plan.device, dev->plan.device_fallback};
    for (int t = 0; t < 2; t++) {
        if (types[t] == VKDP_MEMTYPE_NONE || !(type_bits & (1u << types[t])))
            continue;
        VkDeviceMemory mem;
        VkResult r = vk_memory_alloc(dev, types[t], size, &mem);
        if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY && t == 0 && types[1] != VKDP_MEMTYPE_NONE) {
            if (!dev->fallback_warned)
                vkdp_warn("device memory full (%llu bytes of tensors): further tensors live in host "
                          "memory, read over the bus", (unsigned long long)dev->in_use);
            dev->fallback_warned = 1;
            continue;
        }
        if (r != VK_SUCCESS)
            VKDP_FATAL("vkAllocateMemory(%llu bytes, type %u) returned %s (in use: %llu bytes)",
                       (unsigned long long)size, types[t], vkdp_vk_result_name(r),
                       (unsigned long long)dev->in_use);
        void *map = NULL;
        if (dev->plan.direct)
            VK_CHECK(vkMapMemory(dev->device, mem, 0, VK_WHOLE_SIZE, 0, &map));
        dev->blocks = vkdp_xrealloc(dev->blocks, (size_t)(dev->nblocks + 1) * sizeof *dev->blocks);
        vk_block *b = &dev->blocks[dev->nblocks];
        memset(b, 0, sizeof *b);
        b->mem = mem;
        b->size = size;
        b->type = types[t];
        b->map = map;
        block_free_insert(b, 0, size);
        return dev->nblocks++;
    }
    VKDP_FATAL("no usable memory type for a buffer (type bits 0x%x, planned types %u / %u)", type_bits,
               types[0], types[1]);
}

vkdp_buf *vkdp_buf_create(vkdp_device *dev, uint64_t bytes, const char *name)
{
    if (bytes == 0)
        bytes = 4;
    if (dev->plan.device == VKDP_MEMTYPE_NONE)
        VKDP_FATAL("tensor '%s': device %s was opened to compile pipelines only", name ? name : "?",
                   dev->info.name);
    if (bytes > dev->info.max_storage_buffer_range)
        VKDP_FATAL("tensor '%s' needs %llu bytes, over this device's maxStorageBufferRange of %llu: "
                   "the allocator does not split tensors, the op must tile it (smaller batch slices)",
                   name, (unsigned long long)bytes, (unsigned long long)dev->info.max_storage_buffer_range);
    vkdp_buf *b = vkdp_xcalloc(1, sizeof *b);
    b->dev = dev;
    b->size = bytes;
    snprintf(b->name, sizeof b->name, "%s", name ? name : "?");
    VkBufferCreateInfo bi = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = bytes,
        /* every binding kind a shader may declare (vkdp/vk/spirv.h) */
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT |
                 VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
                 VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VK_CHECK(vkCreateBuffer(dev->device, &bi, NULL, &b->buffer));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(dev->device, b->buffer, &req);
    req.memoryTypeBits = vk_memory_planned_bits(dev, req.memoryTypeBits);
    uint64_t align = req.alignment < 256 ? 256 : req.alignment;
    b->alloc = (req.size + align - 1) / align * align;
    b->block = -1;
    for (int i = 0; i < dev->nblocks && b->block < 0; i++) {
        if (!(req.memoryTypeBits & (1u << dev->blocks[i].type)))
            continue;
        uint64_t off = block_take(&dev->blocks[i], b->alloc, align);
        if (off != UINT64_MAX) {
            b->block = i;
            b->off = off;
        }
    }
    if (b->block < 0) {
        uint64_t size = b->alloc > dev->block_size ? b->alloc : dev->block_size;
        int i = block_new(dev, size, req.memoryTypeBits);
        b->off = block_take(&dev->blocks[i], b->alloc, align);
        if (b->off == UINT64_MAX)
            VKDP_FATAL("allocator: fresh block cannot hold '%s'", b->name);
        b->block = i;
    }
    VK_CHECK(vkBindBufferMemory(dev->device, b->buffer, dev->blocks[b->block].mem, b->off));
    dev->in_use += b->alloc;
    if (dev->in_use > dev->peak)
        dev->peak = dev->in_use;
    return b;
}

void vkdp_buf_destroy(vkdp_buf *b)
{
    if (!b)
        return;
    vkdp_device *dev = b->dev;
    vk_xfer_quiesce(dev); /* no recorded or running copy may still name this buffer */
    vkdp_buf_texel_views_destroy(b);
    vkDestroyBuffer(dev->device, b->buffer, NULL);
    block_free_insert(&dev->blocks[b->block], b->off, b->alloc);
    dev->in_use -= b->alloc;
    free(b);
}

uint64_t vkdp_buf_size(const vkdp_buf *b) { return b->size; }

/* to_device: host -> buffer, else buffer -> host. */
static void transfer(vkdp_buf *b, uint64_t offset, void *host, uint64_t bytes, int to_device)
{
    if (offset > b->size || bytes > b->size - offset)
        VKDP_FATAL("%s of %llu bytes at %llu overflows buffer '%s' (%llu bytes)", to_device ? "upload" : "download",
                   (unsigned long long)bytes, (unsigned long long)offset, b->name, (unsigned long long)b->size);
    if (bytes == 0)
        return;
    vkdp_device *dev = b->dev;
    if (!dev->plan.direct) {
        if (to_device)
            vk_xfer_upload(b, offset, host, bytes);
        else
            vk_xfer_download(b, offset, host, bytes);
        return;
    }
    vk_block *k = &dev->blocks[b->block];
    uint8_t *mapped = k->map + b->off + offset;
    int coherent = vk_memtype_coherent(dev, k->type);
    if (!to_device)
        vk_host_sync(dev, k->mem, k->size, coherent, b->off + offset, bytes, 0);
    memcpy(to_device ? (void *)mapped : host, to_device ? host : (const void *)mapped, bytes);
    if (to_device)
        vk_host_sync(dev, k->mem, k->size, coherent, b->off + offset, bytes, 1);
}

void vkdp_buf_upload(vkdp_buf *b, uint64_t offset, const void *src, uint64_t bytes)
{
    transfer(b, offset, (void *)src, bytes, 1);
}

void vkdp_buf_download(vkdp_buf *b, uint64_t offset, void *dst, uint64_t bytes) { transfer(b, offset, dst, bytes, 0); }

int vkdp_buf_staged(const vkdp_device *dev) { return !dev->plan.direct; }

uint64_t vkdp_mem_in_use(const vkdp_device *dev) { return dev->in_use; }
uint64_t vkdp_mem_peak(const vkdp_device *dev) { return dev->peak; }

void vkdp_blocks_destroy(vkdp_device *dev)
{
    for (int i = 0; i < dev->nblocks; i++) {
        if (dev->blocks[i].map)
            vkUnmapMemory(dev->device, dev->blocks[i].mem);
        vk_memory_free(dev, dev->blocks[i].type, dev->blocks[i].size, dev->blocks[i].mem);
        free(dev->blocks[i].free);
    }
    free(dev->blocks);
    dev->blocks = NULL;
    dev->nblocks = 0;
}
