# One image for the service and the Dask scheduler and workers: workers unpickle tradecast's
# fitting functions, so they need the same package version as the service.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY forecasting forecasting
COPY data data
COPY api api
COPY reports reports
RUN pip install --no-cache-dir .
ENV TRADECAST_HOST=0.0.0.0
EXPOSE 8000
CMD ["tradecast", "serve"]
