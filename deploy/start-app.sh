#!/bin/sh
# The app container's command: Streamlit on $PORT (8501 by default, 7860 on a Hugging Face Space).
# With PLAYGROUND_RAY_ADDRESS (host:port of a Ray head), this container first joins that cluster as a
# node with no CPUs (a driver must run on a node of the cluster), so jobs run on the worker nodes.
set -eu
if [ -n "${PLAYGROUND_RAY_ADDRESS:-}" ]; then
    ray start --address="$PLAYGROUND_RAY_ADDRESS" --num-cpus=0 --disable-usage-stats
fi
exec streamlit run streamlit_app.py \
    --server.port="${PORT:-8501}" \
    --server.address=0.0.0.0 \
    --server.headless=true
