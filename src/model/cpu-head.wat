;; The LM head of a CPU graph in WebAssembly SIMD (src/model/cpu-head.ts runs it; scripts/build-cpu-head.mjs compiles
;; this file into cpu-head-wasm.ts). For each of `rows` int8 rows w[r] of length k (a multiple of 16):
;;   out[r] = f32(sum_i w[r][i] * a[i]) * (a_scale * scale[r])
;; a: the activations already quantized and centred (q - zero point, int16); the int32 sum is exact.
(module
  (memory (export "memory") 1)
  (func $dot (param $w i32) (param $a i32) (param $k i32) (result i32)
    (local $i i32) (local $acc v128) (local $wv v128)
    (local.set $acc (v128.const i32x4 0 0 0 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $k)))
        (local.set $wv (v128.load (i32.add (local.get $w) (local.get $i))))
        (local.set $acc (i32x4.add (local.get $acc)
          (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $wv))
                             (v128.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 1)))))))
        (local.set $acc (i32x4.add (local.get $acc)
          (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $wv))
                             (v128.load offset=16 (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 1)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))
    (i32.add (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
             (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
  (func (export "head") (param $w i32) (param $scale i32) (param $a i32) (param $out i32) (param $rows i32) (param $k i32) (param $ascale f32)
    (local $r i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (f32.store (local.get $out)
          (f32.mul (f32.convert_i32_s (call $dot (local.get $w) (local.get $a) (local.get $k)))
                   (f32.mul (local.get $ascale) (f32.load (local.get $scale)))))
        (local.set $w (i32.add (local.get $w) (local.get $k)))
        (local.set $scale (i32.add (local.get $scale) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $next))))
)
