/* Memory-type plan on synthetic memory tables of the GPUs vkdp targets (modelled on their
 * vulkaninfo reports), and the VKDP_FORCE_STAGING emulation of a small BAR. No device needed. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

#include "vkdp/vk/memplan.h"

#define DL VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT
#define HV VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT
#define HC VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
#define CA VK_MEMORY_PROPERTY_HOST_CACHED_BIT
#define GiB (1ull << 30)
#define MiB (1ull << 20)
#define NONE VKDP_MEMTYPE_NONE


typedef struct {
    uint64_t size;
    int device_local;
} heap_spec;
typedef struct {
    uint32_t heap;
    VkMemoryPropertyFlags flags;
} type_spec;

static VkPhysicalDeviceMemoryProperties table(const heap_spec *h, uint32_t nh, const type_spec *t, uint32_t nt)
{
    VkPhysicalDeviceMemoryProperties mp;
    memset(&mp, 0, sizeof mp);
    mp.memoryHeapCount = nh;
    for (uint32_t i = 0; i < nh; i++) {
        mp.memoryHeaps[i].size = h[i].size;
        mp.memoryHeaps[i].flags = h[i].device_local ? VK_MEMORY_HEAP_DEVICE_LOCAL_BIT : 0;
    }
    mp.memoryTypeCount = nt;
    for (uint32_t i = 0; i < nt; i++) {
        mp.memoryTypes[i].heapIndex = t[i].heap;
        mp.memoryTypes[i].propertyFlags = t[i].flags;
    }
    return mp;
}

static void expect_plan(const char *gpu, const VkPhysicalDeviceMemoryProperties *mp, uint32_t bits, int direct,
                        uint32_t device, uint32_t staging, uint32_t readback, uint32_t fallback)
{
    vkdp_memplan p;
    int r = vkdp_memplan_choose(mp, bits, &p);
    EXPECT(r == 0 && p.direct == direct && p.device == device && p.staging == staging && p.readback == readback &&
               p.device_fallback == fallback,
           "%-44s -> %s device %u staging %d readback %d fallback %d%s%s", gpu, p.direct ? "direct" : "staged",
           p.device, (int)p.staging, (int)p.readback, (int)p.device_fallback, r ? " error: " : "", r ? p.why : "");
}

int main(void)
{
    /* NVIDIA (proprietary driver), no resizable BAR: VRAM, system RAM, a 256 MiB BAR window. */
    heap_spec nv_h[] = {{24 * GiB, 1}, {64 * GiB, 0}, {246 * MiB, 1}};
    type_spec nv_t[] = {{1, 0}, {0, DL}, {1, HV | HC}, {1, HV | HC | CA}, {2, DL | HV | HC}};
    VkPhysicalDeviceMemoryProperties nv = table(nv_h, 3, nv_t, 5);
    expect_plan("NVIDIA, 256 MiB BAR", &nv, 0x1f, 0, 1, 2, 3, 0);
    /* The same with resizable BAR (and H100/H200-class cards' large BAR1): the window is VRAM-sized. */
    heap_spec nvr_h[] = {{24 * GiB, 1}, {64 * GiB, 0}, {24 * GiB, 1}};
    VkPhysicalDeviceMemoryProperties nvr = table(nvr_h, 3, nv_t, 5);
    expect_plan("NVIDIA, resizable BAR", &nvr, 0x1f, 0, 1, 2, 3, 0);
    /* A buffer that may not use type 0 changes nothing but the fallback (host memory, mapped type). */
    expect_plan("NVIDIA, buffer type bits 0x1e", &nv, 0x1e, 0, 1, 2, 3, 2);

    /* AMD (RADV), no resizable BAR: VRAM minus the window, GTT, the visible 256 MiB. */
    heap_spec amd_h[] = {{16 * GiB - 256 * MiB, 1}, {32 * GiB, 0}, {256 * MiB, 1}};
    type_spec amd_t[] = {{0, DL}, {1, HV | HC}, {2, DL | HV | HC}, {1, HV | HC | CA}};
    VkPhysicalDeviceMemoryProperties amd = table(amd_h, 3, amd_t, 4);
    expect_plan("AMD RADV, 256 MiB BAR", &amd, 0xf, 0, 0, 1, 3, 1);
    /* AMD with Smart Access Memory: all of VRAM visible, one device-local heap. */
    heap_spec sam_h[] = {{16 * GiB, 1}, {32 * GiB, 0}};
    type_spec sam_t[] = {{0, DL}, {0, DL | HV | HC}, {1, HV | HC}, {1, HV | HC | CA}};
    VkPhysicalDeviceMemoryProperties sam = table(sam_h, 2, sam_t, 4);
    expect_plan("AMD RADV, resizable BAR", &sam, 0xf, 0, 0, 2, 3, 2);
    /* AMDVLK also lists device-coherent types, usable only with a feature vkdp does not enable. */
    type_spec amdvlk_t[] = {{0, DL | VK_MEMORY_PROPERTY_DEVICE_COHERENT_BIT_AMD | VK_MEMORY_PROPERTY_DEVICE_UNCACHED_BIT_AMD},
                            {0, DL},
                            {1, HV | HC | VK_MEMORY_PROPERTY_DEVICE_COHERENT_BIT_AMD},
                            {1, HV | HC},
                            {1, HV | HC | CA}};
    VkPhysicalDeviceMemoryProperties amdvlk = table(amd_h, 3, amdvlk_t, 5);
    expect_plan("AMDVLK, device-coherent types listed first", &amdvlk, 0x1f, 0, 1, 3, 4, 3);

    /* Intel integrated (ANV): one heap of system memory, all of it device-local. */
    heap_spec intel_h[] = {{12 * GiB, 1}};
    type_spec intel_t[] = {{0, DL}, {0, DL | HV | HC}, {0, DL | HV | HC | CA}};
    VkPhysicalDeviceMemoryProperties intel = table(intel_h, 1, intel_t, 3);
    expect_plan("Intel integrated", &intel, 0x7, 1, 2, NONE, NONE, NONE);
    /* Cached but not coherent (some integrated parts): still direct, with flush/invalidate. */
    type_spec intel_nc_t[] = {{0, DL}, {0, DL | HV | CA}};
    VkPhysicalDeviceMemoryProperties intel_nc = table(intel_h, 1, intel_nc_t, 2);
    expect_plan("integrated, cached non-coherent", &intel_nc, 0x3, 1, 1, NONE, NONE, NONE);

    /* lavapipe: one type with every host flag. */
    heap_spec lvp_h[] = {{2 * GiB, 1}};
    type_spec lvp_t[] = {{0, DL | HV | HC | CA}};
    VkPhysicalDeviceMemoryProperties lvp = table(lvp_h, 1, lvp_t, 1);
    expect_plan("lavapipe", &lvp, 0x1, 1, 0, NONE, NONE, NONE);

    /* VKDP_FORCE_STAGING on lavapipe: VRAM without host access + a 256 MiB window onto it. */
    VkPhysicalDeviceMemoryProperties emu;
    uint32_t real[VK_MAX_MEMORY_TYPES], bar = 0;
    int r = vkdp_memprops_emulate_bar(&lvp, 256 * MiB, &emu, real, &bar);
    EXPECT(r == 0 && emu.memoryTypeCount == 2 && emu.memoryHeapCount == 2 && bar == 1 &&
               emu.memoryHeaps[1].size == 256 * MiB && emu.memoryTypes[0].propertyFlags == DL &&
               emu.memoryTypes[1].heapIndex == 1 && emu.memoryTypes[1].propertyFlags == (DL | HV | HC | CA) &&
               real[0] == 0 && real[1] == 0,
           "lavapipe emulated: type 0 DEVICE_LOCAL only, type 1 = real type 0 in a 256 MiB BAR heap");
    expect_plan("lavapipe + VKDP_FORCE_STAGING", &emu, 0x3, 0, 0, 1, 1, NONE);
    /* Emulating on an NVIDIA table keeps system memory as it is. */
    r = vkdp_memprops_emulate_bar(&nvr, 256 * MiB, &emu, real, &bar);
    EXPECT(r == 0 && emu.memoryTypeCount == 6 && real[5] == 4 && emu.memoryTypes[5].heapIndex == 3 &&
               emu.memoryTypes[4].propertyFlags == DL,
           "NVIDIA rBAR emulated: BAR type moved to the emulated heap, VRAM types lose host access");
    expect_plan("NVIDIA rBAR + VKDP_FORCE_STAGING", &emu, 0x3f, 0, 1, 2, 3, 0);

    /* Failures say why. */
    type_spec vram_only[] = {{0, DL}};
    VkPhysicalDeviceMemoryProperties bad = table(lvp_h, 1, vram_only, 1);
    vkdp_memplan p;
    EXPECT(vkdp_memplan_choose(&bad, 0x1, &p) == -1 && strstr(p.why, "no host-visible type"),
           "VRAM without any host-visible type refused: %s", p.why);
    EXPECT(vkdp_memplan_choose(&lvp, 0x0, &p) == -1 && strstr(p.why, "no memory type usable"),
           "no type allowed for buffers refused: %s", p.why);
    type_spec prot[] = {{0, DL | HV | HC | CA | VK_MEMORY_PROPERTY_PROTECTED_BIT}};
    VkPhysicalDeviceMemoryProperties prot_mp = table(lvp_h, 1, prot, 1);
    EXPECT(vkdp_memplan_choose(&prot_mp, 0x1, &p) == -1, "protected memory is never used");

    char s[256];
    vkdp_memflags_str(DL | HV | VK_MEMORY_PROPERTY_DEVICE_COHERENT_BIT_AMD | 0x4000, s, sizeof s);
    EXPECT(!strcmp(s, "DEVICE_LOCAL|HOST_VISIBLE|DEVICE_COHERENT_AMD|0x4000"), "flag names: %s", s);
    vkdp_memflags_str(0, s, sizeof s);
    EXPECT(!strcmp(s, "none"), "no flags: %s", s);

    return test_summary();
}
