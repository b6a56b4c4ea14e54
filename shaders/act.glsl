// Activations shared by the shaders that fuse them (ACT: 0 none, 1 swish, 2 sigmoid).
float act_sigmoid(float v) { return 1.0 / (1.0 + exp(-v)); }
float act_apply(int act, float v)
{
    if (act == 1) return v * act_sigmoid(v);
    if (act == 2) return act_sigmoid(v);
    return v;
}
vec4 act_apply4(int act, vec4 v)
{
    if (act == 1) return v / (1.0 + exp(-v));
    if (act == 2) return 1.0 / (1.0 + exp(-v));
    return v;
}
