declare module "plotly.js-strict-dist-min";
