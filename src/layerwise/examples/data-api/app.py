"""A small prediction service: trains a classifier on a generated data set at start-up and
serves predictions, a summary, a regression and charts. Its dependencies (numpy, pandas, SciPy,
scikit-learn, statsmodels, matplotlib, plotly, pyarrow) are what make its Docker build slow:
a few hundred MB of wheels that a cache-unfriendly Dockerfile reinstalls after every code
change."""

import io

import numpy as np
import pandas as pd
from flask import Flask, jsonify, request
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

app = Flask(__name__)

X, y = make_classification(n_samples=2000, n_features=8, n_informative=5, random_state=0)
frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]).assign(label=y)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
model = RandomForestClassifier(n_estimators=50, random_state=0).fit(X_train, y_train)


@app.route("/")
def home():
    return jsonify(rows=len(frame), accuracy=round(float(model.score(X_test, y_test)), 3))


@app.route("/summary")
def summary():
    return frame.describe().round(3).to_json()


@app.route("/predict", methods=["POST"])
def predict():
    rows = np.asarray(request.get_json()["rows"], dtype=float)
    return jsonify(labels=model.predict(rows).tolist())


@app.route("/trend")
def trend():
    import statsmodels.api as sm

    fit = sm.OLS(frame["label"], sm.add_constant(frame[["f0", "f1"]])).fit()
    return jsonify(params=fit.params.round(4).to_dict(), r2=round(float(fit.rsquared), 4))


@app.route("/chart")
def chart():
    import plotly.express as px

    return px.histogram(frame, x="f0", color="label").to_html(full_html=False)


@app.route("/plot.png")
def plot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3))
    frame.groupby("label")["f0"].plot.hist(ax=ax, alpha=0.6, bins=30)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue(), 200, {"Content-Type": "image/png"}


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000)
