// lib/nn's native kernels: single-precision GEMM through OpenBLAS, plus the elementwise passes that
// are slow in JS on this hardware (bias + activation, activation gradients, bias-gradient column sums,
// the Adam update, Polyak averaging, layer normalisation). All work in place on Float32Array views (no copies).
// Plain node_api.h keeps the addon free of C++ exception settings. Every call validates that the
// requested matrices fit inside the arrays it was handed: a wrong leading dimension must throw, not
// scribble over the JS heap.
#include <node_api.h>
#include <cblas.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

namespace {

bool Throw(napi_env env, const std::string& msg) {
  napi_throw_range_error(env, nullptr, msg.c_str());
  return false;
}

bool GetInt(napi_env env, napi_value v, const char* name, int64_t* out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !std::isfinite(d) || d != std::floor(d) || d < 0 ||
      d > 2147483647.0) {
    return Throw(env, std::string("gemm: ") + name + " must be a non-negative 32-bit integer");
  }
  *out = static_cast<int64_t>(d);
  return true;
}

bool GetFloat(napi_env env, napi_value v, const char* name, float* out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !std::isfinite(d)) {
    return Throw(env, std::string("gemm: ") + name + " must be a finite number");
  }
  *out = static_cast<float>(d);
  return true;
}

bool GetF32(napi_env env, napi_value v, const char* name, float** data, int64_t* length) {
  bool is_typed = false;
  napi_is_typedarray(env, v, &is_typed);
  if (!is_typed) return Throw(env, std::string("gemm: ") + name + " must be a Float32Array");
  napi_typedarray_type type;
  size_t len;
  void* ptr;
  napi_get_typedarray_info(env, v, &type, &len, &ptr, nullptr, nullptr);
  if (type != napi_float32_array) return Throw(env, std::string("gemm: ") + name + " must be a Float32Array");
  *data = static_cast<float*>(ptr);
  *length = static_cast<int64_t>(len);
  return true;
}

// A stored rows x cols (row-major, leading dimension ld) must satisfy ld >= cols and fit in length.
bool CheckFits(napi_env env, const char* name, int64_t rows, int64_t cols, int64_t ld, int64_t length) {
  if (ld < (cols > 1 ? cols : 1)) {
    return Throw(env, std::string("gemm: leading dimension of ") + name + " (" + std::to_string(ld) +
                          ") is smaller than its column count (" + std::to_string(cols) + ")");
  }
  if (rows > 0 && cols > 0 && (rows - 1) * ld + cols > length) {
    return Throw(env, std::string("gemm: ") + name + " needs " + std::to_string((rows - 1) * ld + cols) +
                          " elements (" + std::to_string(rows) + "x" + std::to_string(cols) + ", ld " +
                          std::to_string(ld) + ") but its array has " + std::to_string(length));
  }
  return true;
}

// A GEMM with a single output row or column is a matrix-vector product; OpenBLAS's sgemm pays 5-8x
// over sgemv for these shapes (a critic's 256 -> 1 head and its gradients). C is zeroed first when
// beta == 0 so stale NaNs vanish, as BLAS promises for GEMM.
void Gemv(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
          float beta, float* c, int ldc) {
  if (n == 1) {
    // c[:, 0] (stride ldc) = alpha * op(A) x + beta * c, x = op(B)[:, 0].
    if (beta == 0.0f)
      for (int i = 0; i < m; ++i) c[static_cast<int64_t>(i) * ldc] = 0.0f;
    const int incx = tb ? 1 : ldb;
    if (ta) {
      cblas_sgemv(CblasRowMajor, CblasTrans, k, m, alpha, a, lda, b, incx, beta, c, ldc);
    } else {
      cblas_sgemv(CblasRowMajor, CblasNoTrans, m, k, alpha, a, lda, b, incx, beta, c, ldc);
    }
    return;
  }
  // m == 1: c[0, :] = alpha * op(B)^T x + beta * c, x = op(A)[0, :].
  if (beta == 0.0f)
    for (int j = 0; j < n; ++j) c[j] = 0.0f;
  const int incx = ta ? lda : 1;
  if (tb) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, alpha, b, ldb, a, incx, beta, c, 1);
  } else {
    cblas_sgemv(CblasRowMajor, CblasTrans, k, n, alpha, b, ldb, a, incx, beta, c, 1);
  }
}

// sgemm(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc):
// C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C, all row-major.
napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != 13) {
    Throw(env, "gemm: expected 13 arguments (transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)");
    return nullptr;
  }
  bool ta, tb;
  if (napi_get_value_bool(env, argv[0], &ta) != napi_ok || napi_get_value_bool(env, argv[1], &tb) != napi_ok) {
    Throw(env, "gemm: transA and transB must be booleans");
    return nullptr;
  }
  int64_t m, n, k, lda, ldb, ldc, la, lb, lc;
  float alpha, beta;
  float *a, *b, *c;
  if (!GetInt(env, argv[2], "m", &m) || !GetInt(env, argv[3], "n", &n) || !GetInt(env, argv[4], "k", &k) ||
      !GetFloat(env, argv[5], "alpha", &alpha) || !GetF32(env, argv[6], "A", &a, &la) ||
      !GetInt(env, argv[7], "lda", &lda) || !GetF32(env, argv[8], "B", &b, &lb) ||
      !GetInt(env, argv[9], "ldb", &ldb) || !GetFloat(env, argv[10], "beta", &beta) ||
      !GetF32(env, argv[11], "C", &c, &lc) || !GetInt(env, argv[12], "ldc", &ldc)) {
    return nullptr;
  }
  // Stored shapes: op(A) = A^T means A is stored k x m.
  if (!CheckFits(env, "A", ta ? k : m, ta ? m : k, lda, la) || !CheckFits(env, "B", tb ? n : k, tb ? k : n, ldb, lb) ||
      !CheckFits(env, "C", m, n, ldc, lc)) {
    return nullptr;
  }
  if (m == 0 || n == 0) return nullptr;
  if (k == 0) {
    // BLAS semantics: C = beta * C; done here so beta == 0 clears NaNs like BLAS does.
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    return nullptr;
  }
  if (n == 1 || m == 1) {
    Gemv(ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b,
         static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
    return nullptr;
  }
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb),
              beta, c, static_cast<int>(ldc));
  return nullptr;
}


// Reads argument i as a Float32Array that must hold at least `need` elements.
bool GetF32Min(napi_env env, napi_value v, const char* name, int64_t need, float** data) {
  int64_t len;
  if (!GetF32(env, v, name, data, &len)) return false;
  if (len < need) {
    return Throw(env, std::string("kernel: ") + name + " has " + std::to_string(len) + " elements, needs " +
                          std::to_string(need));
  }
  return true;
}

bool Args(napi_env env, napi_callback_info info, size_t expected, napi_value* argv, const char* fn) {
  size_t argc = expected;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != expected) {
    return Throw(env, std::string("kernel: ") + fn + " expects " + std::to_string(expected) + " arguments");
  }
  return true;
}

enum Act { kIdentity = 0, kRelu = 1, kTanh = 2 };

bool GetAct(napi_env env, napi_value v, int64_t* act) {
  if (!GetInt(env, v, "act", act)) return false;
  if (*act > 2) return Throw(env, "kernel: act must be 0 (identity), 1 (relu) or 2 (tanh)");
  return true;
}

// addBiasAct(out, rows, cols, bias, act): out[r, c] = act(out[r, c] + bias[c]).
napi_value AddBiasAct(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int64_t rows, cols, act;
  float *out, *bias;
  if (!Args(env, info, 5, argv, "addBiasAct") || !GetInt(env, argv[1], "rows", &rows) ||
      !GetInt(env, argv[2], "cols", &cols) || !GetF32Min(env, argv[0], "out", rows * cols, &out) ||
      !GetF32Min(env, argv[3], "bias", cols, &bias) || !GetAct(env, argv[4], &act)) {
    return nullptr;
  }
  for (int64_t r = 0; r < rows; ++r) {
    float* o = out + r * cols;
    if (act == kRelu) {
      for (int64_t c = 0; c < cols; ++c) {
        const float v = o[c] + bias[c];
        o[c] = v < 0.0f ? 0.0f : v;  // NaN passes through
      }
    } else if (act == kTanh) {
      for (int64_t c = 0; c < cols; ++c) o[c] = std::tanh(o[c] + bias[c]);
    } else {
      for (int64_t c = 0; c < cols; ++c) o[c] += bias[c];
    }
  }
  return nullptr;
}

// activate(x, out, n, act): out = act(x) (out may alias x).
napi_value Activate(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int64_t n, act;
  float *x, *out;
  if (!Args(env, info, 4, argv, "activate") || !GetInt(env, argv[2], "n", &n) ||
      !GetF32Min(env, argv[0], "x", n, &x) || !GetF32Min(env, argv[1], "out", n, &out) || !GetAct(env, argv[3], &act)) {
    return nullptr;
  }
  if (act == kRelu) {
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] < 0.0f ? 0.0f : x[i];  // NaN passes through
  } else if (act == kTanh) {
    for (int64_t i = 0; i < n; ++i) out[i] = std::tanh(x[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = x[i];
  }
  return nullptr;
}

// restrict-qualified loops so the compiler vectorises them (branch-free selects instead of a
// mispredicted branch per element: ReLU signs are random).
void ActBackwardLoop(const float* __restrict y, const float* __restrict d, float* __restrict g, int64_t n,
                     int64_t act) {
  if (act == kRelu) {
    for (int64_t i = 0; i < n; ++i) g[i] = y[i] > 0.0f ? d[i] : 0.0f;
  } else if (act == kTanh) {
    for (int64_t i = 0; i < n; ++i) g[i] = d[i] * (1.0f - y[i] * y[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) g[i] = d[i];
  }
}

void ColSumLoop(const float* __restrict d, int64_t rows, int64_t cols, float* __restrict acc) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = d + r * cols;
    for (int64_t c = 0; c < cols; ++c) acc[c] += row[c];
  }
}

void LerpLoop(float* __restrict t, const float* __restrict s, int64_t n, double tau) {
  for (int64_t i = 0; i < n; ++i) t[i] = static_cast<float>(tau * s[i] + (1.0 - tau) * t[i]);
}

// activationBackward(y, dOut, dIn, n, act): dIn = dOut * act'(.), expressed through the output y.
napi_value ActivationBackward(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int64_t n, act;
  float *y, *d, *g;
  if (!Args(env, info, 5, argv, "activationBackward") || !GetInt(env, argv[3], "n", &n) ||
      !GetF32Min(env, argv[0], "y", n, &y) || !GetF32Min(env, argv[1], "dOut", n, &d) ||
      !GetF32Min(env, argv[2], "dIn", n, &g) || !GetAct(env, argv[4], &act)) {
    return nullptr;
  }
  ActBackwardLoop(y, d, g, n, act);
  return nullptr;
}

// colSumAdd(d, rows, cols, acc): acc[c] += sum_r d[r, c] (bias gradients).
napi_value ColSumAdd(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int64_t rows, cols;
  float *d, *acc;
  if (!Args(env, info, 4, argv, "colSumAdd") || !GetInt(env, argv[1], "rows", &rows) ||
      !GetInt(env, argv[2], "cols", &cols) || !GetF32Min(env, argv[0], "d", rows * cols, &d) ||
      !GetF32Min(env, argv[3], "acc", cols, &acc)) {
    return nullptr;
  }
  ColSumLoop(d, rows, cols, acc);
  return nullptr;
}

// LayerNorm's row sums, in double over LN_LANES independent partial sums: with one running sum, a chain of
// dependent adds, a 256×256 forward cost over half a 256³ GEMM (lib/nn/README); the lanes vectorise.
constexpr int64_t LN_LANES = 8;

double SumRow(const float* __restrict x, int64_t n) {
  double lane[LN_LANES] = {};
  int64_t c = 0;
  for (; c + LN_LANES <= n; c += LN_LANES)
    for (int64_t k = 0; k < LN_LANES; ++k) lane[k] += x[c + k];
  double sum = 0.0;
  for (int64_t k = 0; k < LN_LANES; ++k) sum += lane[k];
  for (; c < n; ++c) sum += x[c];
  return sum;
}

double SumSquaredDeviations(const float* __restrict x, int64_t n, double mean) {
  double lane[LN_LANES] = {};
  int64_t c = 0;
  for (; c + LN_LANES <= n; c += LN_LANES)
    for (int64_t k = 0; k < LN_LANES; ++k) {
      const double d = x[c + k] - mean;
      lane[k] += d * d;
    }
  double sum = 0.0;
  for (int64_t k = 0; k < LN_LANES; ++k) sum += lane[k];
  for (; c < n; ++c) {
    const double d = x[c] - mean;
    sum += d * d;
  }
  return sum;
}

// Σ a·b (b2 null) or Σ a·b·b2 over a row, in double: the two means LayerNorm's input gradient needs
// (Σ dy·w and Σ dy·w·xhat).
double SumProductRow(const float* __restrict a, const float* __restrict b, const float* __restrict b2,
                     int64_t n) {
  double lane[LN_LANES] = {};
  int64_t c = 0;
  if (b2 == nullptr) {
    for (; c + LN_LANES <= n; c += LN_LANES)
      for (int64_t k = 0; k < LN_LANES; ++k) lane[k] += static_cast<double>(a[c + k]) * b[c + k];
  } else {
    for (; c + LN_LANES <= n; c += LN_LANES)
      for (int64_t k = 0; k < LN_LANES; ++k) lane[k] += static_cast<double>(a[c + k]) * b[c + k] * b2[c + k];
  }
  double sum = 0.0;
  for (int64_t k = 0; k < LN_LANES; ++k) sum += lane[k];
  for (; c < n; ++c) sum += static_cast<double>(a[c]) * b[c] * (b2 == nullptr ? 1.0 : b2[c]);
  return sum;
}

// Per row: xhat = (x − mean) · rstd with rstd = 1 / sqrt(biased var + eps), out = xhat · weight + bias;
// xhat and rstd are stored when given (training), skipped when null (inference). Sums in double.
void LayerNormForwardLoop(const float* __restrict x, float* out, int64_t rows, int64_t cols,
                          const float* __restrict w, const float* __restrict b, double eps, float* xhat,
                          float* __restrict rstd) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    const double mean = SumRow(xr, cols) / static_cast<double>(cols);
    const double sq = SumSquaredDeviations(xr, cols, mean);
    const float s = static_cast<float>(1.0 / std::sqrt(sq / static_cast<double>(cols) + eps));
    const float m = static_cast<float>(mean);
    if (rstd != nullptr) rstd[r] = s;
    float* o = out + r * cols;
    if (xhat != nullptr) {
      float* h = xhat + r * cols;
      for (int64_t c = 0; c < cols; ++c) {
        const float v = (xr[c] - m) * s;
        h[c] = v;
        o[c] = v * w[c] + b[c];
      }
    } else {
      for (int64_t c = 0; c < cols; ++c) o[c] = (xr[c] - m) * s * w[c] + b[c];
    }
  }
}

// dWeight += Σ_r dy·xhat, dBias += Σ_r dy (when given); dx = rstd · (g − mean(g) − xhat · mean(g · xhat)),
// g = dy · weight (when given).
void LayerNormBackwardLoop(const float* __restrict dy, const float* __restrict xhat, const float* __restrict rstd,
                           int64_t rows, int64_t cols, const float* __restrict w, float* __restrict dx,
                           float* __restrict dw, float* __restrict db) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* d = dy + r * cols;
    const float* h = xhat + r * cols;
    if (dw != nullptr) {
      for (int64_t c = 0; c < cols; ++c) {
        dw[c] += d[c] * h[c];
        db[c] += d[c];
      }
    }
    if (dx == nullptr) continue;
    const double sum = SumProductRow(d, w, nullptr, cols);
    const double dot = SumProductRow(d, w, h, cols);
    const float mean_g = static_cast<float>(sum / static_cast<double>(cols));
    const float mean_dot = static_cast<float>(dot / static_cast<double>(cols));
    const float s = rstd[r];
    float* o = dx + r * cols;
    for (int64_t c = 0; c < cols; ++c) o[c] = s * (d[c] * w[c] - mean_g - h[c] * mean_dot);
  }
}

// An optional Float32Array argument: an empty array means "not wanted" (null pointer), else it must hold `need`.
bool GetOptionalF32(napi_env env, napi_value v, const char* name, int64_t need, float** data) {
  int64_t len;
  if (!GetF32(env, v, name, data, &len)) return false;
  if (len == 0) {
    *data = nullptr;
    return true;
  }
  return GetF32Min(env, v, name, need, data);
}

// layerNormForward(x, out, rows, cols, weight, bias, eps, xhat, rstd): xhat, rstd empty = not kept.
napi_value LayerNormForward(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  int64_t rows, cols;
  float eps;
  float *x, *out, *w, *b, *xhat, *rstd;
  if (!Args(env, info, 9, argv, "layerNormForward") || !GetInt(env, argv[2], "rows", &rows) ||
      !GetInt(env, argv[3], "cols", &cols) || !GetF32Min(env, argv[0], "x", rows * cols, &x) ||
      !GetF32Min(env, argv[1], "out", rows * cols, &out) || !GetF32Min(env, argv[4], "weight", cols, &w) ||
      !GetF32Min(env, argv[5], "bias", cols, &b) || !GetFloat(env, argv[6], "eps", &eps) ||
      !GetOptionalF32(env, argv[7], "xhat", rows * cols, &xhat) ||
      !GetOptionalF32(env, argv[8], "rstd", rows, &rstd)) {
    return nullptr;
  }
  if (cols < 1) {
    Throw(env, "kernel: layerNormForward needs cols >= 1");
    return nullptr;
  }
  LayerNormForwardLoop(x, out, rows, cols, w, b, eps, xhat, rstd);
  return nullptr;
}

// layerNormBackward(dOut, xhat, rstd, rows, cols, weight, dIn, dWeight, dBias): dIn empty = not wanted;
// dWeight and dBias both empty = parameter gradients not accumulated.
napi_value LayerNormBackward(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  int64_t rows, cols;
  float *dy, *xhat, *rstd, *w, *dx, *dw, *db;
  if (!Args(env, info, 9, argv, "layerNormBackward") || !GetInt(env, argv[3], "rows", &rows) ||
      !GetInt(env, argv[4], "cols", &cols) || !GetF32Min(env, argv[0], "dOut", rows * cols, &dy) ||
      !GetF32Min(env, argv[1], "xhat", rows * cols, &xhat) || !GetF32Min(env, argv[2], "rstd", rows, &rstd) ||
      !GetF32Min(env, argv[5], "weight", cols, &w) || !GetOptionalF32(env, argv[6], "dIn", rows * cols, &dx) ||
      !GetOptionalF32(env, argv[7], "dWeight", cols, &dw) || !GetOptionalF32(env, argv[8], "dBias", cols, &db)) {
    return nullptr;
  }
  if ((dw == nullptr) != (db == nullptr)) {
    Throw(env, "kernel: layerNormBackward takes dWeight and dBias both or neither");
    return nullptr;
  }
  LayerNormBackwardLoop(dy, xhat, rstd, rows, cols, w, dx, dw, db);
  return nullptr;
}

// Separate function with restrict-qualified pointers so the compiler may vectorise (the four arrays
// never alias: they are distinct per-parameter buffers).
void AdamLoop(float* __restrict w, const float* __restrict g, float* __restrict m, float* __restrict v, int64_t n,
              double step_size, double beta1, double beta2, double bc2_sqrt, double eps, double wd) {
  for (int64_t i = 0; i < n; ++i) {
    const double gi = static_cast<double>(g[i]) + wd * static_cast<double>(w[i]);
    const float mi = static_cast<float>(m[i] + (gi - m[i]) * (1.0 - beta1));
    const float vi = static_cast<float>(v[i] * beta2 + (1.0 - beta2) * gi * gi);
    m[i] = mi;
    v[i] = vi;
    w[i] = static_cast<float>(w[i] - (step_size * mi) / (std::sqrt(static_cast<double>(vi)) / bc2_sqrt + eps));
  }
}

// adamUpdate(w, g, m, v, n, stepSize, beta1, beta2, bc2Sqrt, eps, weightDecay): torch.optim.Adam's
// per-element update with float32 storage and double arithmetic (as the TypeScript kernel).
napi_value AdamUpdate(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  int64_t n;
  float *w, *g, *m, *v;
  double h[6];
  const char* names[6] = {"stepSize", "beta1", "beta2", "bc2Sqrt", "eps", "weightDecay"};
  if (!Args(env, info, 11, argv, "adamUpdate") || !GetInt(env, argv[4], "n", &n) ||
      !GetF32Min(env, argv[0], "w", n, &w) || !GetF32Min(env, argv[1], "g", n, &g) ||
      !GetF32Min(env, argv[2], "m", n, &m) || !GetF32Min(env, argv[3], "v", n, &v)) {
    return nullptr;
  }
  for (int i = 0; i < 6; ++i) {
    if (napi_get_value_double(env, argv[5 + i], &h[i]) != napi_ok || !std::isfinite(h[i])) {
      Throw(env, std::string("kernel: adamUpdate ") + names[i] + " must be a finite number");
      return nullptr;
    }
  }
  const double step_size = h[0], beta1 = h[1], beta2 = h[2], bc2_sqrt = h[3], eps = h[4], wd = h[5];
  AdamLoop(w, g, m, v, n, step_size, beta1, beta2, bc2_sqrt, eps, wd);
  return nullptr;
}

// lerp(target, source, n, tau): target = tau * source + (1 - tau) * target.
napi_value Lerp(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int64_t n;
  float *t, *s;
  double tau;
  if (!Args(env, info, 4, argv, "lerp") || !GetInt(env, argv[2], "n", &n) || !GetF32Min(env, argv[0], "target", n, &t) ||
      !GetF32Min(env, argv[1], "source", n, &s)) {
    return nullptr;
  }
  if (napi_get_value_double(env, argv[3], &tau) != napi_ok || !std::isfinite(tau)) {
    Throw(env, "kernel: lerp tau must be a finite number");
    return nullptr;
  }
  LerpLoop(t, s, n, tau);
  return nullptr;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int64_t t;
  if (argc != 1 || !GetInt(env, argv[0], "threads", &t) || t < 1) {
    if (argc != 1 || t < 1) Throw(env, "gemm: setThreads expects a positive integer");
    return nullptr;
  }
  openblas_set_num_threads(static_cast<int>(t));
  return nullptr;
}

napi_value GetThreads(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_int32(env, openblas_get_num_threads(), &out);
  return out;
}

napi_value GetConfig(napi_env env, napi_callback_info) {
  napi_value out;
  const char* cfg = openblas_get_config();
  napi_create_string_utf8(env, cfg ? cfg : "unknown", NAPI_AUTO_LENGTH, &out);
  return out;
}

napi_value GetCorename(napi_env env, napi_callback_info) {
  napi_value out;
  const char* name = openblas_get_corename();
  napi_create_string_utf8(env, name ? name : "unknown", NAPI_AUTO_LENGTH, &out);
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", nullptr, Sgemm, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"getThreads", nullptr, GetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"getConfig", nullptr, GetConfig, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"getCorename", nullptr, GetCorename, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"addBiasAct", nullptr, AddBiasAct, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"activate", nullptr, Activate, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"activationBackward", nullptr, ActivationBackward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"colSumAdd", nullptr, ColSumAdd, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"adamUpdate", nullptr, AdamUpdate, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"lerp", nullptr, Lerp, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"layerNormForward", nullptr, LayerNormForward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"layerNormBackward", nullptr, LayerNormBackward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
