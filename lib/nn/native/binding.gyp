{
  "targets": [
    {
      "target_name": "o2o_gemm",
      "sources": ["gemm.cc"],
      "cflags_cc": ["-O3", "-march=native", "-ffp-contract=off", "-fno-math-errno", "-std=c++17"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu"],
      "libraries": ["-lopenblas"]
    }
  ]
}
