{
  "targets": [
    {
      "target_name": "conc_shared_memory",
      "sources": ["native/shm.cc"],
      "cflags_cc": ["-std=gnu++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-cast-function-type"],
      "conditions": [["OS!='linux'", {"type": "none"}]]
    }
  ]
}
