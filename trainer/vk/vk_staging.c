/* Staged plan: uploads through a host-visible ring and a recorded copy submitted before the next
 * pass, downloads through a copy into host-cached readback memory (see vk_internal.h, vk_xfer). */
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

#define RING_MAX (64ull << 20)
#define READBACK_MAX (16ull << 20)
#define RING_ALIGN 256u

static void hostbuf_create(vkdp_device *dev, vk_hostbuf *h, uint32_t type, uint64_t want, const char *what)
{
    const VkPhysicalDeviceMemoryProperties *mp = &dev->memprops;
    uint64_t heap = mp->memoryHeaps[mp->memoryTypes[type].heapIndex].size;
    /* A quarter of the heap at most: a 256 MiB BAR keeps room for the driver and other users. */
    uint64_t size = want < heap / 4 ? want : heap / 4;
    size = size / RING_ALIGN * RING_ALIGN;
    if (size < 64 * 1024)
        VKDP_FATAL("device %s: the %s heap (%llu bytes, memory type %u) is too small for a %s",
                   dev->info.name, what, (unsigned long long)heap, type, what);
    VkBufferCreateInfo bi = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VK_CHECK(vkCreateBuffer(dev->device, &bi, NULL, &h->buf));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(dev->device, h->buf, &req);
    if (!(vk_memory_planned_bits(dev, req.memoryTypeBits) >> type & 1u))
        VKDP_FATAL("device %s: a %s buffer cannot live in memory type %u (type bits 0x%x)", dev->info.name,
                   what, type, req.memoryTypeBits);
    VkResult r = vk_memory_alloc(dev, type, req.size, &h->mem);
    if (r != VK_SUCCESS)
        VKDP_FATAL("device %s: allocating the %s (%llu bytes, memory type %u) returned %s", dev->info.name,
                   what, (unsigned long long)req.size, type, vkdp_vk_result_name(r));
    VK_CHECK(vkBindBufferMemory(dev->device, h->buf, h->mem, 0));
    void *map;
    VK_CHECK(vkMapMemory(dev->device, h->mem, 0, VK_WHOLE_SIZE, 0, &map));
    h->map = map;
    h->size = size;
    h->coherent = vk_memtype_coherent(dev, type);
}

static void hostbuf_destroy(vkdp_device *dev, vk_hostbuf *h, uint32_t type)
{
    if (!h->buf)
        return;
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(dev->device, h->buf, &req);
    vkDestroyBuffer(dev->device, h->buf, NULL);
    vkUnmapMemory(dev->device, h->mem);
    vk_memory_free(dev, type, req.size, h->mem);
    memset(h, 0, sizeof *h);
}

void vk_xfer_init(vkdp_device *dev)
{
    vk_xfer *x = &dev->xfer;
    memset(x, 0, sizeof *x);
    if (dev->plan.direct || dev->plan.device == VKDP_MEMTYPE_NONE)
        return;
    hostbuf_create(dev, &x->ring, dev->plan.staging, RING_MAX, "staging ring");
    hostbuf_create(dev, &x->readback, dev->plan.readback, READBACK_MAX, "readback buffer");
    VkCommandPoolCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = dev->queue_family,
    };
    VK_CHECK(vkCreateCommandPool(dev->device, &pci, NULL, &x->pool));
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = x->pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VK_CHECK(vkAllocateCommandBuffers(dev->device, &ai, &x->cb));
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VK_CHECK(vkCreateFence(dev->device, &fci, NULL, &x->fence));
    const char *hazard = getenv("VKDP_TEST_HAZARD");
    x->drop_upload_barrier = hazard && !strcmp(hazard, "upload");
}

static void xfer_wait(vkdp_device *dev)
{
    vk_xfer *x = &dev->xfer;
    if (!x->pending)
        return;
    VK_CHECK(vkWaitForFences(dev->device, 1, &x->fence, VK_TRUE, UINT64_MAX));
    x->pending = 0;
    x->head = 0; /* every copy out of the ring has completed */
}

static void mem_barrier(VkCommandBuffer cb, VkPipelineStageFlags src_stage, VkAccessFlags src,
                        VkPipelineStageFlags dst_stage, VkAccessFlags dst)
{
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = src, .dstAccessMask = dst};
    vkCmdPipelineBarrier(cb, src_stage, dst_stage, 0, 1, &mb, 0, NULL, 0, NULL);
}

#define XFER_STAGES (VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT)

static void xfer_begin(vkdp_device *dev)
{
    vk_xfer *x = &dev->xfer;
    if (x->recording)
        return;
    xfer_wait(dev);
    VK_CHECK(vkResetCommandBuffer(x->cb, 0));
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VK_CHECK(vkBeginCommandBuffer(x->cb, &bi));
    /* After every earlier pass: their writes are read here (downloads) and their reads and
     * writes must finish before these copies overwrite (uploads). */
    mem_barrier(x->cb, XFER_STAGES, VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
    x->recording = 1;
    x->ncopies = 0;
    x->ndst = 0;
}

static void xfer_submit(vkdp_device *dev)
{
    vk_xfer *x = &dev->xfer;
    if (!x->recording)
        return;
    /* Every later submission (the next pass) reads what these copies wrote. */
    if (!x->drop_upload_barrier)
        mem_barrier(x->cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, XFER_STAGES,
                    VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                        VK_ACCESS_TRANSFER_WRITE_BIT);
    VK_CHECK(vkEndCommandBuffer(x->cb));
    VK_CHECK(vkResetFences(dev->device, 1, &x->fence));
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &x->cb};
    VK_CHECK(vkQueueSubmit(dev->queue, 1, &si, x->fence));
    x->recording = 0;
    x->pending = 1;
}

void vkdp_staging_flush(vkdp_device *dev)
{
    if (!dev->plan.direct)
        xfer_submit(dev);
}

void vk_xfer_quiesce(vkdp_device *dev)
{
    if (dev->plan.direct || !dev->xfer.pool)
        return;
    xfer_submit(dev);
    xfer_wait(dev);
}

/* Two uploads into the same bytes in one command buffer: the second waits for the first. */
static void order_after_overlapping(vk_xfer *x, VkBuffer buf, uint64_t lo, uint64_t hi)
{
    for (int i = 0; i < x->ndst; i++)
        if (x->dst[i].buf == buf && lo < x->dst[i].hi && x->dst[i].lo < hi) {
            mem_barrier(x->cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                        VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
            x->ndst = 0;
            break;
        }
    if (x->ndst == x->capdst) {
        x->capdst = x->capdst ? 2 * x->capdst : 64;
        x->dst = vkdp_xrealloc(x->dst, (size_t)x->capdst * sizeof *x->dst);
    }
    x->dst[x->ndst++] = (vk_dst_range){buf, lo, hi};
}

void vk_xfer_upload(vkdp_buf *b, uint64_t off, const void *src, uint64_t bytes)
{
    vkdp_device *dev = b->dev;
    vk_xfer *x = &dev->xfer;
    const uint8_t *s = src;
    while (bytes) {
        uint64_t n = bytes < x->ring.size ? bytes : x->ring.size;
        xfer_begin(dev);
        if (x->head + n > x->ring.size) { /* ring full: drain it */
            xfer_submit(dev);
            xfer_begin(dev);
        }
        memcpy(x->ring.map + x->head, s, n);
        vk_host_sync(dev, x->ring.mem, x->ring.size, x->ring.coherent, x->head, n, 1);
        order_after_overlapping(x, b->buffer, off, off + n);
        VkBufferCopy region = {.srcOffset = x->head, .dstOffset = off, .size = n};
        vkCmdCopyBuffer(x->cb, x->ring.buf, b->buffer, 1, &region);
        x->ncopies++;
        x->head = (x->head + n + RING_ALIGN - 1) / RING_ALIGN * RING_ALIGN;
        s += n;
        off += n;
        bytes -= n;
    }
}

void vk_xfer_download(vkdp_buf *b, uint64_t off, void *dst, uint64_t bytes)
{
    vkdp_device *dev = b->dev;
    vk_xfer *x = &dev->xfer;
    uint8_t *d = dst;
    while (bytes) {
        uint64_t n = bytes < x->readback.size ? bytes : x->readback.size;
        xfer_begin(dev);
        if (x->ncopies) /* uploads recorded before: read what they wrote */
            mem_barrier(x->cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                        VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
        VkBufferCopy region = {.srcOffset = off, .dstOffset = 0, .size = n};
        vkCmdCopyBuffer(x->cb, b->buffer, x->readback.buf, 1, &region);
        mem_barrier(x->cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                    VK_ACCESS_HOST_READ_BIT);
        x->ncopies++;
        xfer_submit(dev);
        xfer_wait(dev);
        vk_host_sync(dev, x->readback.mem, x->readback.size, x->readback.coherent, 0, n, 0);
        memcpy(d, x->readback.map, n);
        d += n;
        off += n;
        bytes -= n;
    }
}

void vk_xfer_destroy(vkdp_device *dev)
{
    vk_xfer *x = &dev->xfer;
    if (!x->pool)
        return;
    vk_xfer_quiesce(dev);
    vkDestroyFence(dev->device, x->fence, NULL);
    vkFreeCommandBuffers(dev->device, x->pool, 1, &x->cb);
    vkDestroyCommandPool(dev->device, x->pool, NULL);
    hostbuf_destroy(dev, &x->ring, dev->plan.staging);
    hostbuf_destroy(dev, &x->readback, dev->plan.readback);
    free(x->dst);
    memset(x, 0, sizeof *x);
}
