# common/lab.mk — manifest of the shared library, in the same form as a lab's.
#
# LAB_ENGINES: the engines defined here (the registry of common's own test
#   programs lists them). model is the oracle every lab's differential tests use.
# LAB_CONF_CONFIGS: the (engine:options) configurations the conformance suite
#   runs on in `make test`.
LAB_ENGINES      := model
LAB_CONF_CONFIGS := model model:durable=true
# Layers of the library, lowest first (scripts/layering_check.py, in `make
#   test`): each file calls only files of earlier layers; the comma-separated
#   files of one layer are siblings and do not call each other. The base
#   (status, allocation, generators, hash functions, the compiled-in schema);
#   options, JSON, the hash dispatch and the env front end; the env
#   implementations and the JSON reader; the engine front end, the mem env
#   and bench results; the model engine and the fault env.
LAYER_PARTS   := common
LAYERS_common := status.c,alloc.c,rng.c,hist.c,bench_timer.c,hash_crc32c.c,hash_fnv.c,hash_xxh3.c,hash_xxh64.c,results_schema.c \
                 opts.c,zipf.c,json.c,json_write.c,hash_dispatch.c,env.c,bench_meta.c \
                 env_mem_ns.c,env_posix.c,json_parse.c,json_schema.c \
                 bench_result.c,env_mem.c,kv.c \
                 engine_model.c,env_fault.c
