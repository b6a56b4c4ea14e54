#version 450
// Test shader of every binding kind (tests/test_vk_texel.c, tests/test_vk_spirv.c):
// y[i] = a[i] * u.scale + b[i] + p.f[2] + p.v.z (vec4 texels), z[i] = the sum of y[i]'s components.
layout(local_size_x = 32, local_size_x_id = 7) in;
layout(binding = 0) uniform samplerBuffer a;                  // texel format from the view
layout(binding = 1, r32f) uniform readonly imageBuffer b;     // one float per texel
layout(binding = 2) uniform U { vec4 scale; } u;
layout(binding = 3, rgba32f) uniform writeonly imageBuffer y;
layout(std430, binding = 4) writeonly buffer Z { float z[]; };
layout(push_constant) uniform P {
    uint n;
    float f[3];
    vec3 v;
} p;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    if (i >= p.n)
        return;
    vec4 r = texelFetch(a, int(i)) * u.scale + imageLoad(b, int(i)).x + p.f[2] + p.v.z;
    imageStore(y, int(i), r);
    z[i] = r.x + r.y + r.z + r.w;
}
