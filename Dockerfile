# DQN Playground in one image: the Streamlit app, and (with another command) a Ray node for a course.
#
#   docker build -t dqn-playground .
#   docker run -p 8501:8501 dqn-playground                   # one container: jobs run in it
#   docker compose up -d --build                             # a course: see compose.yaml and the README
#
# A Hugging Face Docker Space builds this file as it is; set the Space's variable PORT=7860
# (the port a Space expects) or `app_port: 8501` in the Space's README.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    MPLBACKEND=Agg \
    SDL_VIDEODRIVER=dummy \
    OMP_NUM_THREADS=1 \
    PORT=8501

# Hugging Face Spaces run the container as uid 1000: the same user here, so files it writes are its own.
RUN useradd --create-home --uid 1000 app
WORKDIR /app

# CPU-only torch from requirements.txt (its +cpu pin and PyTorch's CPU index), and Ray for a cluster.
COPY requirements.txt requirements-cluster.txt ./
RUN pip install --no-cache-dir --retries 0 -r requirements-cluster.txt

COPY --chown=1000:1000 . .
USER 1000
ENV HOME=/home/app MPLCONFIGDIR=/home/app/.config/matplotlib

EXPOSE 8501 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8501') + '/_stcore/health', timeout=4)"]
CMD ["sh", "deploy/start-app.sh"]
