/* The pass recorder: a whole sequence of dispatches in one command buffer, with a barrier only
 * where a dispatch touches what an earlier one (since the last barrier) wrote, or writes what it
 * read. Optional timestamps after every dispatch feed the --profile table. */
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"
#include "vkdp/core/watchdog.h"

#define SETS_PER_POOL 256
#define MAX_QUERIES 4096

typedef struct {
    VkBuffer buf;
    uint64_t lo, hi;
    int write;
} access;

struct vkdp_cmd {
    vkdp_device *dev;
    VkCommandPool pool;
    VkCommandBuffer cb;
    VkFence fence;
    VkDescriptorPool *dpools;
    int ndpools, cur_dpool;
    int recording, pending;
    access *acc;
    int nacc, capacc;
    VkQueryPool qpool;
    uint32_t nqueries;
    const char **labels;   /* label of dispatch i, timestamp i+1 */
    uint32_t ndispatch, caplabels;
    uint64_t *stamps;
    int stamps_valid;
    int ts_overflow_warned;
};

static VkDescriptorPool new_dpool(vkdp_device *dev)
{
    /* every kind a pipeline may declare (vkdp/vk/spirv.h); any one set fits in a fresh pool */
    VkDescriptorPoolSize ps[] = {
        {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, SETS_PER_POOL * 8},
        {VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, SETS_PER_POOL * 2},
        {VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, SETS_PER_POOL * 4},
        {VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER, SETS_PER_POOL * 4},
    };
    VkDescriptorPoolCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = SETS_PER_POOL,
        .poolSizeCount = VKDP_ARRAY_LEN(ps),
        .pPoolSizes = ps,
    };
    VkDescriptorPool p;
    VK_CHECK(vkCreateDescriptorPool(dev->device, &ci, NULL, &p));
    return p;
}

vkdp_cmd *vkdp_cmd_create(vkdp_device *dev)
{
    vkdp_cmd *c = vkdp_xcalloc(1, sizeof *c);
    c->dev = dev;
    VkCommandPoolCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = dev->queue_family,
    };
    VK_CHECK(vkCreateCommandPool(dev->device, &pci, NULL, &c->pool));
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = c->pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VK_CHECK(vkAllocateCommandBuffers(dev->device, &ai, &c->cb));
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VK_CHECK(vkCreateFence(dev->device, &fci, NULL, &c->fence));
    if (dev->profile) {
        VkQueryPoolCreateInfo qci = {
            .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
            .queryType = VK_QUERY_TYPE_TIMESTAMP,
            .queryCount = MAX_QUERIES,
        };
        VK_CHECK(vkCreateQueryPool(dev->device, &qci, NULL, &c->qpool));
        c->stamps = vkdp_xcalloc(MAX_QUERIES, sizeof *c->stamps);
    }
    return c;
}

void vkdp_cmd_destroy(vkdp_cmd *c)
{
    if (!c)
        return;
    if (c->pending)
        vkdp_cmd_wait(c);
    vkdp_device *dev = c->dev;
    for (int i = 0; i < c->ndpools; i++)
        vkDestroyDescriptorPool(dev->device, c->dpools[i], NULL);
    free(c->dpools);
    if (c->qpool)
        vkDestroyQueryPool(dev->device, c->qpool, NULL);
    vkDestroyFence(dev->device, c->fence, NULL);
    vkFreeCommandBuffers(dev->device, c->pool, 1, &c->cb);
    vkDestroyCommandPool(dev->device, c->pool, NULL);
    free(c->acc);
    free(c->labels);
    free(c->stamps);
    free(c);
}

void vkdp_cmd_begin(vkdp_cmd *c)
{
    if (c->pending)
        vkdp_cmd_wait(c);
    VK_CHECK(vkResetCommandBuffer(c->cb, 0));
    for (int i = 0; i < c->ndpools; i++)
        VK_CHECK(vkResetDescriptorPool(c->dev->device, c->dpools[i], 0));
    c->cur_dpool = 0;
    c->nacc = 0;
    c->ndispatch = 0;
    c->nqueries = 0;
    c->stamps_valid = 0;
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    VK_CHECK(vkBeginCommandBuffer(c->cb, &bi));
    c->recording = 1;
    if (c->qpool) {
        vkCmdResetQueryPool(c->cb, c->qpool, 0, MAX_QUERIES);
        vkCmdWriteTimestamp(c->cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, c->qpool, c->nqueries++);
    }
}

static VkDescriptorSet alloc_set(vkdp_cmd *c, VkDescriptorSetLayout dsl)
{
    for (;;) {
        int fresh = c->cur_dpool == c->ndpools;
        if (fresh) {
            c->dpools = vkdp_xrealloc(c->dpools, (size_t)(c->ndpools + 1) * sizeof *c->dpools);
            c->dpools[c->ndpools++] = new_dpool(c->dev);
        }
        VkDescriptorSetAllocateInfo ai = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
            .descriptorPool = c->dpools[c->cur_dpool],
            .descriptorSetCount = 1,
            .pSetLayouts = &dsl,
        };
        VkDescriptorSet s;
        VkResult r = vkAllocateDescriptorSets(c->dev->device, &ai, &s);
        if (r == VK_SUCCESS)
            return s;
        if ((r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL) || fresh)
            VK_CHECK(r);
        c->cur_dpool++;
    }
}

static void barrier(vkdp_cmd *c)
{
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        /* uniform buffers are read through UNIFORM_READ, every other binding through SHADER_READ */
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_UNIFORM_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                         VK_ACCESS_TRANSFER_WRITE_BIT,
    };
    vkCmdPipelineBarrier(c->cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0,
                         NULL, 0, NULL);
    c->nacc = 0;
}

void vkdp_cmd_barrier(vkdp_cmd *c)
{
    if (!c->recording)
        VKDP_FATAL("vkdp_cmd_barrier outside vkdp_cmd_begin/end");
    barrier(c);
}

static int conflicts(const vkdp_cmd *c, const access *a)
{
    for (int i = 0; i < c->nacc; i++) {
        const access *b = &c->acc[i];
        if (b->buf == a->buf && a->lo < b->hi && b->lo < a->hi && (a->write || b->write))
            return 1;
    }
    return 0;
}

static void record_access(vkdp_cmd *c, const access *a)
{
    if (c->nacc == c->capacc) {
        c->capacc = c->capacc ? 2 * c->capacc : 64;
        c->acc = vkdp_xrealloc(c->acc, (size_t)c->capacc * sizeof *c->acc);
    }
    c->acc[c->nacc++] = *a;
}

const char *vkdp_intern_label(vkdp_device *dev, const char *label)
{
    for (int i = 0; i < dev->nlabels; i++)
        if (!strcmp(dev->labels[i], label))
            return dev->labels[i];
    dev->labels = vkdp_xrealloc(dev->labels, (size_t)(dev->nlabels + 1) * sizeof *dev->labels);
    dev->labels[dev->nlabels] = vkdp_xstrdup(label);
    return dev->labels[dev->nlabels++];
}

static void stamp(vkdp_cmd *c, const char *label)
{
    label = vkdp_intern_label(c->dev, label);
    if (c->ndispatch == c->caplabels) {
        c->caplabels = c->caplabels ? 2 * c->caplabels : 256;
        c->labels = vkdp_xrealloc(c->labels, c->caplabels * sizeof *c->labels);
    }
    c->labels[c->ndispatch++] = label;
    if (!c->qpool)
        return;
    if (c->nqueries >= MAX_QUERIES) {
        if (!c->ts_overflow_warned)
            vkdp_warn("profile: more than %d dispatches in one pass; later ones are not timed", MAX_QUERIES - 1);
        c->ts_overflow_warned = 1;
        return;
    }
    vkCmdWriteTimestamp(c->cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, c->qpool, c->nqueries++);
}

/* Alignment a binding's offset needs, by kind. */
static uint32_t offset_alignment(const vkdp_device_info *in, vkdp_bind_kind kind)
{
    switch (kind) {
    case VKDP_BIND_UNIFORM_BUFFER: return in->min_uniform_buffer_offset_alignment;
    case VKDP_BIND_UNIFORM_TEXEL:
    case VKDP_BIND_STORAGE_TEXEL: return in->min_texel_buffer_offset_alignment;
    default: return in->min_storage_buffer_offset_alignment;
    }
}

static access view_access(vkdp_cmd *c, const vkdp_view *v, int write, vkdp_bind_kind kind,
                          const char *label, uint32_t i)
{
    if (!v->buf)
        VKDP_FATAL("%s: binding %u has no buffer", label, i);
    if (v->offset > v->buf->size)
        VKDP_FATAL("%s: binding %u (%s) offset %llu is past its %llu bytes", label, i,
                   v->buf->name, (unsigned long long)v->offset, (unsigned long long)v->buf->size);
    uint64_t size = v->size ? v->size : v->buf->size - v->offset;
    if (size > v->buf->size - v->offset)
        VKDP_FATAL("%s: binding %u (%s) range [%llu, +%llu) exceeds its %llu bytes", label, i, v->buf->name,
                   (unsigned long long)v->offset, (unsigned long long)size, (unsigned long long)v->buf->size);
    uint32_t align = offset_alignment(&c->dev->info, kind);
    if (v->offset % align)
        VKDP_FATAL("%s: binding %u (%s, a %s) offset %llu is not a multiple of the device's %u-byte "
                   "offset alignment", label, i, v->buf->name, vkdp_bind_kind_name(kind),
                   (unsigned long long)v->offset, align);
    if (kind == VKDP_BIND_UNIFORM_BUFFER && size > c->dev->info.max_uniform_buffer_range)
        VKDP_FATAL("%s: binding %u (%s) is a uniform buffer of %llu bytes, over maxUniformBufferRange "
                   "%llu", label, i, v->buf->name, (unsigned long long)size,
                   (unsigned long long)c->dev->info.max_uniform_buffer_range);
    access a = {v->buf->buffer, v->offset, v->offset + size, write};
    return a;
}

/* Bit i set when the shader may write binding i. */
static uint32_t shader_writes(const vkdp_spirv_info *in)
{
    uint32_t m = 0;
    for (uint32_t i = 0; i < in->nbindings; i++)
        if (in->binding[i].writable)
            m |= 1u << i;
    return m;
}

void vkdp_cmd_dispatch(vkdp_cmd *c, vkdp_pipeline *p, const char *label, const vkdp_view *views, uint32_t nviews,
                       uint32_t write_mask, const void *push, uint32_t gx, uint32_t gy, uint32_t gz)
{
    const vkdp_spirv_info *in = &p->info;
    if (!c->recording)
        VKDP_FATAL("%s: vkdp_cmd_dispatch outside vkdp_cmd_begin/end", label);
    if (nviews != in->nbindings)
        VKDP_FATAL("%s: %u buffers bound, shader %s has %u bindings", label, nviews, p->shader,
                   in->nbindings);
    if (write_mask != shader_writes(in))
        VKDP_FATAL("%s: write mask 0x%x, but shader %s may write bindings 0x%x (readonly "
                   "qualifiers)", label, write_mask, p->shader, shader_writes(in));
    const uint32_t *mx = c->dev->info.max_workgroup_count;
    if (gx > mx[0] || gy > mx[1] || gz > mx[2])
        VKDP_FATAL("%s: dispatch %u x %u x %u exceeds maxComputeWorkGroupCount %u x %u x %u: the op must tile",
                   label, gx, gy, gz, mx[0], mx[1], mx[2]);
    if (gx == 0 || gy == 0 || gz == 0)
        return;

    access acc[VKDP_SPIRV_MAX_BINDINGS];
    VkBufferView tv[VKDP_SPIRV_MAX_BINDINGS];
    int hazard = 0;
    for (uint32_t i = 0; i < nviews; i++) {
        vkdp_bind_kind kind = in->binding[i].kind;
        if (kind == VKDP_BIND_NONE) {
            if (views[i].buf)
                VKDP_FATAL("%s: binding %u is not used by shader %s but has a buffer", label, i,
                           p->shader);
            continue;
        }
        acc[i] = view_access(c, &views[i], (write_mask >> i) & 1, kind, label, i);
        hazard |= conflicts(c, &acc[i]);
        if (kind == VKDP_BIND_UNIFORM_TEXEL || kind == VKDP_BIND_STORAGE_TEXEL) {
            VkFormat f = views[i].format ? views[i].format : in->binding[i].format;
            tv[i] = vkdp_buf_texel_view(views[i].buf, views[i].offset, acc[i].hi - acc[i].lo, f,
                                        kind, label, i);
        }
    }
    if (hazard)
        barrier(c);

    VkDescriptorSet set = alloc_set(c, p->dsl);
    VkDescriptorBufferInfo bi[VKDP_SPIRV_MAX_BINDINGS];
    VkWriteDescriptorSet w[VKDP_SPIRV_MAX_BINDINGS];
    uint32_t nw = 0;
    for (uint32_t i = 0; i < nviews; i++) {
        vkdp_bind_kind kind = in->binding[i].kind;
        if (kind == VKDP_BIND_NONE)
            continue;
        record_access(c, &acc[i]);
        uint64_t range = acc[i].hi - acc[i].lo;
        w[nw] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = set,
            .dstBinding = i,
            .descriptorCount = 1,
            .descriptorType = vkdp_descriptor_type(kind),
        };
        if (kind == VKDP_BIND_UNIFORM_TEXEL || kind == VKDP_BIND_STORAGE_TEXEL) {
            w[nw].pTexelBufferView = &tv[i];
        } else {
            bi[i] = (VkDescriptorBufferInfo){views[i].buf->buffer, views[i].offset, range};
            w[nw].pBufferInfo = &bi[i];
        }
        nw++;
    }
    vkUpdateDescriptorSets(c->dev->device, nw, w, 0, NULL);
    vkCmdBindPipeline(c->cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    vkCmdBindDescriptorSets(c->cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &set, 0, NULL);
    if (in->push_bytes)
        vkCmdPushConstants(c->cb, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, in->push_bytes, push);
    vkCmdDispatch(c->cb, gx, gy, gz);
    stamp(c, label);
}

void vkdp_cmd_fill(vkdp_cmd *c, vkdp_view v, uint32_t value)
{
    if (!c->recording)
        VKDP_FATAL("vkdp_cmd_fill outside vkdp_cmd_begin/end");
    access a = view_access(c, &v, 1, VKDP_BIND_STORAGE_BUFFER, "fill", 0);
    if ((a.hi - a.lo) % 4)
        VKDP_FATAL("fill of %s: size %llu is not a multiple of 4", v.buf->name, (unsigned long long)(a.hi - a.lo));
    if (conflicts(c, &a))
        barrier(c);
    record_access(c, &a);
    vkCmdFillBuffer(c->cb, v.buf->buffer, v.offset, a.hi - a.lo, value);
    stamp(c, "fill");
}

void vkdp_cmd_end(vkdp_cmd *c)
{
    if (!c->recording)
        VKDP_FATAL("vkdp_cmd_end without vkdp_cmd_begin");
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
    };
    vkCmdPipelineBarrier(c->cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
    VK_CHECK(vkEndCommandBuffer(c->cb));
    c->recording = 0;
    c->nacc = 0;
}

void vkdp_cmd_submit_async(vkdp_cmd *c)
{
    if (c->recording)
        VKDP_FATAL("vkdp_cmd_submit before vkdp_cmd_end");
    if (c->pending)
        vkdp_cmd_wait(c);
    vkdp_staging_flush(c->dev); /* uploads recorded since the last submission run first */
    VK_CHECK(vkResetFences(c->dev->device, 1, &c->fence));
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &c->cb};
    VK_CHECK(vkQueueSubmit(c->dev->queue, 1, &si, c->fence));
    c->pending = 1;
}

void vkdp_cmd_wait(vkdp_cmd *c)
{
    if (!c->pending)
        return;
    vkdp_watch_begin("device wait (vkWaitForFences)");
    VK_CHECK(vkWaitForFences(c->dev->device, 1, &c->fence, VK_TRUE, UINT64_MAX));
    vkdp_watch_end();
    c->pending = 0;
    if (c->qpool && c->nqueries > 1) {
        VK_CHECK(vkGetQueryPoolResults(c->dev->device, c->qpool, 0, c->nqueries, c->nqueries * sizeof(uint64_t),
                                       c->stamps, sizeof(uint64_t),
                                       VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
        c->stamps_valid = 1;
    }
}

void vkdp_cmd_submit(vkdp_cmd *c)
{
    vkdp_cmd_submit_async(c);
    vkdp_cmd_wait(c);
}

uint32_t vkdp_cmd_dispatch_count(const vkdp_cmd *c) { return c->ndispatch; }

/* ---------------- profile ---------------- */
typedef struct {
    const char *label;
    double ns;
    uint64_t calls;
} prof_row;

struct vkdp_profile {
    prof_row *rows;
    int n, cap;
};

vkdp_profile *vkdp_profile_create(void) { return vkdp_xcalloc(1, sizeof(vkdp_profile)); }

void vkdp_profile_destroy(vkdp_profile *p)
{
    if (!p)
        return;
    free(p->rows);
    free(p);
}

void vkdp_profile_add(vkdp_profile *p, const vkdp_cmd *c)
{
    if (!c->stamps_valid)
        return;
    double period = c->dev->info.timestamp_period_ns;
    for (uint32_t i = 0; i + 1 < c->nqueries && i < c->ndispatch; i++) {
        const char *label = c->labels[i];
        double ns = (double)(c->stamps[i + 1] - c->stamps[i]) * period;
        int j = 0;
        while (j < p->n && strcmp(p->rows[j].label, label))
            j++;
        if (j == p->n) {
            if (p->n == p->cap) {
                p->cap = p->cap ? 2 * p->cap : 32;
                p->rows = vkdp_xrealloc(p->rows, (size_t)p->cap * sizeof *p->rows);
            }
            p->rows[p->n++] = (prof_row){label, 0, 0};
        }
        p->rows[j].ns += ns;
        p->rows[j].calls++;
    }
}

double vkdp_profile_total_ms(const vkdp_profile *p)
{
    double t = 0;
    for (int i = 0; i < p->n; i++)
        t += p->rows[i].ns;
    return t * 1e-6;
}

static int by_time(const void *a, const void *b)
{
    double x = ((const prof_row *)a)->ns, y = ((const prof_row *)b)->ns;
    return (x < y) - (x > y);
}

void vkdp_profile_print(const vkdp_profile *p, FILE *out)
{
    prof_row *r = vkdp_xcalloc((size_t)p->n, sizeof *r);
    memcpy(r, p->rows, (size_t)p->n * sizeof *r);
    qsort(r, (size_t)p->n, sizeof *r, by_time);
    double total = vkdp_profile_total_ms(p);
    fprintf(out, "%-28s %8s %12s %12s %7s\n", "op", "calls", "total ms", "mean us", "share");
    for (int i = 0; i < p->n; i++)
        fprintf(out, "%-28s %8llu %12.2f %12.1f %6.1f%%\n", r[i].label, (unsigned long long)r[i].calls,
                r[i].ns * 1e-6, r[i].ns * 1e-3 / (double)r[i].calls, total > 0 ? 100.0 * r[i].ns * 1e-6 / total : 0);
    fprintf(out, "%-28s %8s %12.2f\n", "total", "", total);
    free(r);
}

void vkdp_grid(const vkdp_device *dev, uint64_t groups, uint32_t *gx, uint32_t *gy)
{
    uint64_t mx = dev->info.max_workgroup_count[0];
    if (groups <= mx) {
        *gx = (uint32_t)groups;
        *gy = 1;
        return;
    }
    uint64_t y = (groups + mx - 1) / mx;
    if (y > dev->info.max_workgroup_count[1])
        VKDP_FATAL("%llu workgroups exceed the device's 2-D dispatch limit", (unsigned long long)groups);
    *gx = (uint32_t)((groups + y - 1) / y);
    *gy = (uint32_t)y;
}
