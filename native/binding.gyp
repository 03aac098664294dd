{
  "targets": [
    {
      "target_name": "switchyard",
      "type": "loadable_module",
      "product_extension": "node",
      "sources": ["src/addon.c", "src/netns.c", "src/nlsock.c", "src/icmp.c", "src/nft.c", "src/lock.c", "src/cpusplit.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "libraries": ["-lpthread", "-lnftables"]
    },
    {
      "target_name": "yard-nsexec",
      "type": "executable",
      "sources": ["src/nsexec.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra"],
      "defines": ["_GNU_SOURCE"]
    },
    {
      "target_name": "yard-attach-floor",
      "type": "executable",
      "sources": ["bench/attach-floor.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["_GNU_SOURCE"]
    }
  ]
}
