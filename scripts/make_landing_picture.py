"""Save the landing page's picture (cnnlib.plots.landing_pipeline) as cnnlib.plots.LANDING_PICTURE."""

from cnnlib.plots import LANDING_PICTURE, landing_pipeline

if __name__ == "__main__":
    LANDING_PICTURE.write_bytes(landing_pipeline())
    print(LANDING_PICTURE)
