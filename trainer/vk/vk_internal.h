/* Private to trainer/vk/vk_*.c: the structs behind vk.h's opaque handles. */
#ifndef VKDP_VK_INTERNAL_H
#define VKDP_VK_INTERNAL_H
#include "vkdp/vk/memplan.h"
#include "vkdp/vk/vk.h"

typedef struct {
    uint64_t off, size;
} vk_range;

typedef struct {
    VkDeviceMemory mem;
    uint64_t size;
    uint32_t type;      /* planned type (vkdp_device.memprops) */
    uint8_t *map;       /* direct plan only */
    vk_range *free;     /* sorted by offset, coalesced */
    int nfree, capfree;
} vk_block;

/* A texel-buffer view of a buffer range, cached on the buffer. */
typedef struct {
    uint64_t off, range;
    VkFormat format;
    VkBufferView view;
} vk_texel_view;

struct vkdp_buf {
    vkdp_device *dev;
    VkBuffer buffer;
    int block;
    uint64_t off;       /* in the block */
    uint64_t alloc;     /* bytes taken from the block (aligned) */
    uint64_t size;      /* bytes asked for */
    char name[64];
    vk_texel_view *views;
    uint32_t nviews;
};

struct vkdp_pipeline {
    char shader[64];
    const uint32_t *code;   /* key: the SPIR-V (built-in or the caller's) */
    uint32_t spec[16];
    uint32_t nspec, wg_x;
    vkdp_spirv_info info;   /* reflected; local_size[0] as specialized */
    VkShaderModule module;
    VkDescriptorSetLayout dsl;
    VkPipelineLayout layout;
    VkPipeline pipeline;
};

/* A mapped host-visible buffer of its own allocation: the staging ring, the readback area. */
typedef struct {
    VkDeviceMemory mem;
    VkBuffer buf;
    uint8_t *map;
    uint64_t size;
    int coherent;
} vk_hostbuf;

typedef struct {
    VkBuffer buf;
    uint64_t lo, hi;
} vk_dst_range;

/* Staged plan: uploads are copied into the ring and recorded as copies into cb, which is
 * submitted before the next pass (vkdp_staging_flush) or download; downloads copy into readback
 * and wait. One command buffer: the ring is reused only after its submission completed. */
typedef struct {
    vk_hostbuf ring, readback;
    uint64_t head;           /* next free ring byte */
    VkCommandPool pool;
    VkCommandBuffer cb;
    VkFence fence;
    int recording, pending;
    uint32_t ncopies;        /* copies recorded since begin */
    vk_dst_range *dst;       /* upload destinations since the last barrier */
    int ndst, capdst;
    int drop_upload_barrier; /* VKDP_TEST_HAZARD=upload: proves sync validation catches it */
} vk_xfer;

struct vkdp_device {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice phys;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    vkdp_device_info info;
    /* The table memory is planned over: the device's, or under VKDP_FORCE_STAGING the
     * emulated one, whose type v is real type real_type[v] and whose heap bar_heap is budgeted
     * here (bar_used of bar_bytes). */
    VkPhysicalDeviceMemoryProperties memprops;
    uint32_t real_type[VK_MAX_MEMORY_TYPES];
    int emulated;
    uint32_t bar_heap;
    uint64_t bar_bytes, bar_used;
    vkdp_memplan plan;
    uint64_t atom;           /* nonCoherentAtomSize */
    int force_noncoherent;   /* VKDP_FORCE_NONCOHERENT=1: flush/invalidate as if not coherent */
    int fallback_warned;
    vk_xfer xfer;
    uint64_t block_size;
    vk_block *blocks;
    int nblocks;
    uint64_t in_use, peak;
    VkPipelineCache pcache;
    vkdp_pipeline **pipes;
    int npipes;
    int profile;
    int validation_errors;
    int compile_only;   /* opts.compile_only: no memory, no submissions */
    int capture_stats;  /* compile-only device with VK_KHR_pipeline_executable_properties */
    char **labels;      /* interned op labels: recordings and profiles keep pointers to them */
    int nlabels;
    const void *ops_data;
};

/* Instance and physical devices (vk_device.c, vk_devinfo.c). */
VkInstance vk_create_instance(int want_validation, vkdp_device *dev, VkDebugUtilsMessengerEXT *msgr);
VkPhysicalDevice *vk_enumerate(VkInstance inst, uint32_t *n);
void vk_fill_info(VkPhysicalDevice p, int index, vkdp_device_info *info);
/* The device a process takes among pd[0..n): devices[0..ndevices) when given, else VKDP_DEVICE,
 * else the automatic choice (vkdp/vk/devsel.h). Returns 0 with *sel and the device's class rank,
 * or -1 with the reason in err. */
int vk_choose_device(const VkPhysicalDevice *pd, uint32_t n, const int *devices, int ndevices, int local_rank,
                     int local_size, vkdp_devsel *sel, int *class_rank, char *err, size_t len);
int vk_compute_queue_family(VkPhysicalDevice p);
int vk_has_extension(VkPhysicalDevice p, const char *name);
const char *vk_type_name(VkPhysicalDeviceType t);

/* Memory (vk_memory.c): plans the device's memory at creation; allocates planned type `type`
 * (within the emulated BAR budget), returning the driver's result. */
void vk_memory_init(vkdp_device *dev, int compile_only);
VkResult vk_memory_alloc(vkdp_device *dev, uint32_t type, uint64_t size, VkDeviceMemory *mem);
void vk_memory_free(vkdp_device *dev, uint32_t type, uint64_t size, VkDeviceMemory mem);
int vk_memtype_coherent(const vkdp_device *dev, uint32_t type);
/* A buffer's real memoryTypeBits as bits of planned types. */
uint32_t vk_memory_planned_bits(const vkdp_device *dev, uint32_t real_bits);
/* Integer environment variable in [lo, hi] (fatal otherwise), dflt when unset or empty. */
long vk_env_long(const char *name, long dflt, long lo, long hi);
/* Flush after host writes (host_wrote) / invalidate before host reads of [off, off+size) of a
 * mapping, widened to nonCoherentAtomSize; no-ops on coherent memory. */
void vk_host_sync(vkdp_device *dev, VkDeviceMemory mem, uint64_t mem_size, int coherent, uint64_t off, uint64_t size,
                  int host_wrote);

/* Staged uploads and downloads (vk_staging.c). */
void vk_xfer_init(vkdp_device *dev);
void vk_xfer_destroy(vkdp_device *dev);
void vk_xfer_upload(vkdp_buf *b, uint64_t off, const void *src, uint64_t bytes);
void vk_xfer_download(vkdp_buf *b, uint64_t off, void *dst, uint64_t bytes);
/* Submits the recorded uploads (no wait): every later submission sees them. */
void vkdp_staging_flush(vkdp_device *dev);
/* Submits and waits for every staged copy. */
void vk_xfer_quiesce(vkdp_device *dev);

/* A stable copy of an op label, owned by the device (one per distinct string). */
const char *vkdp_intern_label(vkdp_device *dev, const char *label);
VkDescriptorType vkdp_descriptor_type(vkdp_bind_kind k);
/* The cached view of buf's [off, off+range) as format (created on first use; checks the
 * device's texel-buffer limits and the format's support, fatal naming label and binding). */
VkBufferView vkdp_buf_texel_view(vkdp_buf *buf, uint64_t off, uint64_t range, VkFormat format,
                                 vkdp_bind_kind kind, const char *label, uint32_t binding);
void vkdp_buf_texel_views_destroy(vkdp_buf *b);

#endif
