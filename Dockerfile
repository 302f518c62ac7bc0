# Production image: one image, several roles (web, worker, beat) chosen by docker-compose.yml.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/var/lib/amazon-channel
WORKDIR /app
RUN useradd --system --create-home --home-dir /home/app app \
    && mkdir -p /var/lib/amazon-channel && chown app /var/lib/amazon-channel
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# collectstatic needs settings but no secret of the real deployment.
# The app writes under VAR_DIR at run time (beat's heartbeat file): it owns what the build made there.
RUN DEBUG=false SECRET_KEY=build-only CREDENTIALS_ENCRYPTION_KEYS=S0-NJ8PLBqzU2uOn3AZpHVNcPoV0RMGxJ5yzYhD3h8E= \
    python manage.py collectstatic --noinput -v0 \
    && chown -R app /var/lib/amazon-channel
USER app
EXPOSE 8000
