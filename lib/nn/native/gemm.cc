// Single-precision GEMM for lib/nn through OpenBLAS, on Float32Array views in place (no copies).
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
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb),
              beta, c, static_cast<int>(ldc));
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

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", nullptr, Sgemm, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"getThreads", nullptr, GetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"getConfig", nullptr, GetConfig, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
