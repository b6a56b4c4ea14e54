/* Vulkan compute runtime: device selection, sub-allocated buffers, cached pipelines, and a
 * recorder that puts a whole pass of dispatches (with the barriers they need) into one command
 * buffer, optionally timestamped per op.
 *
 * Memory model (vkdp/vk/memplan.h): tensors live in device-local memory. Where that memory is
 * also host-visible and cached (CPU drivers, integrated GPUs) uploads and downloads are memcpy;
 * on discrete GPUs they go through a staging ring and a readback area with copies on the queue.
 * One binding never exceeds maxStorageBufferRange: vkdp_buf_create refuses a larger tensor with
 * an error that says the op must tile it. */
#ifndef VKDP_VK_H
#define VKDP_VK_H
#include <stdint.h>
#include <stdio.h>
#include <vulkan/vulkan.h>

#include "vkdp/core/common.h"
#include "vkdp/vk/devsel.h"
#include "vkdp/vk/shaders.h"
#include "vkdp/vk/spirv.h"

const char *vkdp_vk_result_name(VkResult r);

/* Every Vulkan call goes through this: prints the expression, file:line and the VkResult name. */
#define VK_CHECK(expr)                                                                          \
    do {                                                                                        \
        VkResult vkdp_r_ = (expr);                                                              \
        if (vkdp_r_ != VK_SUCCESS)                                                              \
            vkdp_fatal_at(__FILE__, __LINE__, "%s returned %s", #expr,                          \
                          vkdp_vk_result_name(vkdp_r_));                                        \
    } while (0)

typedef struct vkdp_device vkdp_device;
typedef struct vkdp_buf vkdp_buf;
typedef struct vkdp_pipeline vkdp_pipeline;
typedef struct vkdp_cmd vkdp_cmd;

typedef struct {
    /* Explicit devices (see vkdp/vk/devsel.h): ndevices 0 = VKDP_DEVICE env ("N" or "N,M,..."),
     * else automatic (best class, PCI bus order, local_rank % count). */
    int devices[VKDP_MAX_DEVICE_LIST];
    int ndevices;
    int compile_only;   /* no memory: pipelines only (RADV's no-hardware device has none) */
    int local_rank;     /* rank on this node (0 without MPI) */
    int local_size;     /* ranks on this node (1 without MPI): lavapipe threads = cores / local_size */
    int validation;     /* -1: VKDP_VALIDATION env, else on in debug builds when installed;
                         * 0 off, 1 on, 2 on when installed, 3 on with synchronization validation */
    int profile;        /* enable timestamp queries in vkdp_cmd */
} vkdp_device_opts;

void vkdp_device_opts_default(vkdp_device_opts *o);

typedef struct {
    char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
    VkPhysicalDeviceType type;
    const char *type_name;           /* "discrete", "integrated", "virtual", "cpu", "other" */
    char driver[256];                /* driver name + info */
    uint32_t api_version;
    uint32_t subgroup_size;
    uint64_t device_memory_bytes;    /* largest device-local heap */
    uint64_t max_storage_buffer_range;
    uint64_t max_allocation_size;
    uint32_t max_workgroup_invocations;
    uint32_t max_workgroup_size[3];
    uint32_t max_workgroup_count[3];
    uint32_t max_shared_memory;
    uint32_t min_storage_buffer_offset_alignment;
    uint64_t max_uniform_buffer_range;
    uint32_t min_uniform_buffer_offset_alignment;
    uint32_t max_push_constants;     /* maxPushConstantsSize, bytes */
    uint32_t max_texel_buffer_elements;
    uint32_t min_texel_buffer_offset_alignment;
    uint32_t vendor_id;              /* PCI vendor (0x10005: Mesa software devices) */
    uint32_t driver_id;              /* VkDriverId, 0 before Vulkan 1.2 */
    float timestamp_period_ns;
    int has_int64;                   /* shaderInt64 */
    int index;                       /* physical device index */
    uint32_t device_id;              /* PCI device id */
    uint8_t uuid[16];                /* deviceUUID */
    int has_pci;                     /* VK_EXT_pci_bus_info */
    uint32_t pci_domain, pci_bus, pci_device, pci_function;
    uint32_t subgroup_min, subgroup_max; /* VK_EXT_subgroup_size_control (min = max = subgroup_size without) */
    int coopmat_khr;                 /* VK_KHR_cooperative_matrix: fp16 x fp16 -> fp32 subgroup shapes */
    int coopmat_nv;                  /* VK_NV_cooperative_matrix */
} vkdp_device_info;

vkdp_device *vkdp_device_create(const vkdp_device_opts *opts);
void vkdp_device_destroy(vkdp_device *dev);
const vkdp_device_info *vkdp_device_get_info(const vkdp_device *dev);
/* Prints every physical device with its limits, UUID, PCI address, memory heaps and types (with
 * the plan vkdp would use), subgroup sizes and cooperative-matrix shapes; returns how many. */
int vkdp_devices_print(FILE *out);
/* "direct" or "staged" and the types chosen, for logs and tests. */
void vkdp_memplan_describe(const vkdp_device *dev, char *out, size_t outlen);
/* One pointer per device for the layer above (ops keeps its row of the per-device tuning table
 * there, looked up once); NULL until set. */
const void *vkdp_device_ops_data(const vkdp_device *dev);
void vkdp_device_set_ops_data(vkdp_device *dev, const void *data);
/* For --version: the loader's version ("1.3.239") and the driver (driverName driverInfo) of the
 * device a single process would pick, with its index, name and type; or "none (why)". */
void vkdp_vk_versions(char *loader, size_t loader_len, char *driver, size_t driver_len);

/* ---------------- buffers ---------------- */
/* A buffer is a VkBuffer bound to a sub-range of one of a few large device allocations, in
 * device-local memory (vkdp/vk/memplan.h). upload/download work in every plan: staged uploads
 * are ordered before the next submitted pass; a download sees every submitted pass that
 * completed and every earlier upload. Neither may overlap a pass still running on the buffer
 * (vkdp_cmd_submit_async without vkdp_cmd_wait). */
vkdp_buf *vkdp_buf_create(vkdp_device *dev, uint64_t bytes, const char *name);
void vkdp_buf_destroy(vkdp_buf *b);
uint64_t vkdp_buf_size(const vkdp_buf *b);
void vkdp_buf_upload(vkdp_buf *b, uint64_t offset, const void *src, uint64_t bytes);
void vkdp_buf_download(vkdp_buf *b, uint64_t offset, void *dst, uint64_t bytes);
/* 1 in the staged plan: downloads are copies on the queue, so one waits for every pass submitted
 * before it (collect older work before submitting more, or its download waits for that too). */
int vkdp_buf_staged(const vkdp_device *dev);
/* Largest bytes one binding may cover on this device (maxStorageBufferRange). */
uint64_t vkdp_max_binding_bytes(const vkdp_device *dev);
/* Bytes currently / at most allocated from device memory by this process. */
uint64_t vkdp_mem_in_use(const vkdp_device *dev);
uint64_t vkdp_mem_peak(const vkdp_device *dev);

/* Texel-buffer views (VkBufferView) this buffer holds: created on first use by a dispatch, one per
 * (offset, range, format), destroyed with the buffer. */
uint32_t vkdp_buf_texel_views(const vkdp_buf *b);

/* A range of a buffer bound to one descriptor binding; size 0 = to the end of the buffer. offset
 * must be a multiple of the binding kind's alignment (min{Storage,Uniform,Texel}BufferOffset-
 * Alignment). format: the texel format of a texel-buffer binding (UNDEFINED: the image format the
 * shader declares, which a samplerBuffer does not); ignored for other bindings. */
typedef struct {
    vkdp_buf *buf;
    uint64_t offset;
    uint64_t size;
    VkFormat format;
} vkdp_view;

static inline vkdp_view vkdp_whole(vkdp_buf *b)
{
    vkdp_view v = {b, 0, 0, VK_FORMAT_UNDEFINED};
    return v;
}
static inline vkdp_view vkdp_slice(vkdp_buf *b, uint64_t off, uint64_t size)
{
    vkdp_view v = {b, off, size, VK_FORMAT_UNDEFINED};
    return v;
}
static inline vkdp_view vkdp_texels(vkdp_buf *b, uint64_t off, uint64_t size, VkFormat format)
{
    vkdp_view v = {b, off, size, format};
    return v;
}

/* ---------------- pipelines ---------------- */
/* Created once per (shader, specialization constants, workgroup size) and cached in the device.
 * The layout is read from the shader's SPIR-V (vkdp/vk/spirv.h): its set-0 bindings, whatever
 * their kind, and its push-constant block. spec[i] is specialization constant id i (32-bit
 * ints/uints/bools). wg_x != 0 sets the workgroup's x size through the specialization id the
 * shader declares for it (layout(local_size_x_id = ...)); a shader with a fixed size is fatal. */
vkdp_pipeline *vkdp_pipeline_get(vkdp_device *dev, const char *shader, const uint32_t *spec,
                                 uint32_t nspec, uint32_t wg_x);
/* The same for SPIR-V that is not built in (tests, tools); cached by code->code. */
vkdp_pipeline *vkdp_pipeline_get_code(vkdp_device *dev, const vkdp_spirv *code,
                                      const uint32_t *spec, uint32_t nspec, uint32_t wg_x);
/* What the pipeline's shader declares; local_size[0] as specialized. */
const vkdp_spirv_info *vkdp_pipeline_info(const vkdp_pipeline *p);
const char *vkdp_pipeline_shader(const vkdp_pipeline *p);

/* The pipelines created so far (in creation order) and their keys: which (shader,
 * specialization, workgroup size) variants a run used, e.g. to compile them again for another
 * device with vkdp_pipeline_get. */
typedef struct {
    const char *shader;
    const uint32_t *spec;
    uint32_t nspec, wg_x;
} vkdp_pipeline_key;
int vkdp_pipeline_count(const vkdp_device *dev);
void vkdp_pipeline_key_at(const vkdp_device *dev, int i, vkdp_pipeline_key *key);
/* The driver's statistics of a pipeline (registers, spills, scratch, ...; a device opened with
 * opts.compile_only where VK_KHR_pipeline_executable_properties exists). Returns how many were
 * written, or -1 when the device does not capture them. */
typedef struct {
    char name[64];
    uint64_t value;
} vkdp_pipeline_stat;
int vkdp_pipeline_stats(vkdp_device *dev, const vkdp_pipeline *p, vkdp_pipeline_stat *out, int max);

/* ---------------- recording ---------------- */
vkdp_cmd *vkdp_cmd_create(vkdp_device *dev);
void vkdp_cmd_destroy(vkdp_cmd *c);
/* Starts recording anew (releases the descriptor sets of the previous recording). */
void vkdp_cmd_begin(vkdp_cmd *c);
/* Records one dispatch: views[i] is bound to binding i (nviews = the shader's binding count; a
 * binding number the shader leaves unused takes an empty view). Bit i of write_mask says binding i
 * is written, and must agree with the shader (a binding without a readonly qualifier is written).
 * A barrier is inserted before it only when it reads or writes a range that a dispatch since the
 * last barrier wrote, or writes a range one of them read. label names the op in the --profile
 * table (interned: any string will do). */
void vkdp_cmd_dispatch(vkdp_cmd *c, vkdp_pipeline *p, const char *label, const vkdp_view *views,
                       uint32_t nviews, uint32_t write_mask, const void *push, uint32_t gx,
                       uint32_t gy, uint32_t gz);
/* Fills a range with a 32-bit pattern (vkCmdFillBuffer), tracked like a write. */
void vkdp_cmd_fill(vkdp_cmd *c, vkdp_view v, uint32_t value);
/* A full barrier: what is recorded after it waits for every earlier dispatch of this pass and of
 * every pass submitted before this one on the queue, and their writes are visible to it. Passes
 * in flight together that share buffers start with it (the recorder tracks one pass only). */
void vkdp_cmd_barrier(vkdp_cmd *c);
/* Host-visible results: call before the host reads buffers written in this pass. */
void vkdp_cmd_end(vkdp_cmd *c);
/* Submits the recorded command buffer and waits. A recorded pass may be submitted many times
 * (e.g. with new inputs uploaded in between). */
void vkdp_cmd_submit(vkdp_cmd *c);
/* Asynchronous variant: vkdp_cmd_wait blocks until that submission finished. */
void vkdp_cmd_submit_async(vkdp_cmd *c);
void vkdp_cmd_wait(vkdp_cmd *c);
uint32_t vkdp_cmd_dispatch_count(const vkdp_cmd *c);
/* Splits a 1-D count of workgroups into gx * gy <= maxComputeWorkGroupCount (gx*gy >= groups);
 * shaders recover the linear id as gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x. */
void vkdp_grid(const vkdp_device *dev, uint64_t groups, uint32_t *gx, uint32_t *gy);

/* ---------------- profiling (--profile) ---------------- */
typedef struct vkdp_profile vkdp_profile;
vkdp_profile *vkdp_profile_create(void);
void vkdp_profile_destroy(vkdp_profile *p);
/* Adds the timestamps of c's last completed submission (needs opts.profile). */
void vkdp_profile_add(vkdp_profile *p, const vkdp_cmd *c);
/* Table: label, calls, total ms, mean us, share of total; sorted by total. */
void vkdp_profile_print(const vkdp_profile *p, FILE *out);
double vkdp_profile_total_ms(const vkdp_profile *p);

#endif
