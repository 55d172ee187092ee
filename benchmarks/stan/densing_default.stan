// The bayesdense DEFAULT model (models/default.toml) as a Stan program, to compare samplers on
// one posterior (benchmarks/bench_peers.py). It is the model `bayesdense.models.build(spec, fd)`
// writes for that spec, term by term:
//
//   layers.kind = "joint", layers.loss_residuals = "log", no irreducible loss, not hierarchical,
//   sampled latents (one log density per target model), frontier.kind = "stochastic_frontier"
//   with inefficiency = "half_normal" on a straight line in time: marginally a skew-normal,
//   log rho ~ SkewNormal(line, omega, -lambda), the form bayesdense/models/densing.py (_frontier)
//   uses; score_sd and link_ceiling_frac Fixed (score_sd = 0.9 points, ceiling at 100%).
//
// Units as in the PyMC model: N in billions, D in trillions, scores in percent, time in years
// from the data's mid-date. The data, the fixed values and every prior's parameters come from
// benchmarks/stan_data.py (stan_data(spec, fd)), which refuses a spec this program does not
// write. Parameters are declared on PyMC's constrained scales with the same transforms (log for
// the positive ones), so the log density with Jacobian equals PyMC's `model.compile_logp()` up to
// a constant: (1 + 2B) log 2, from the half-normal priors, which Stan's normal_lpdf on a
// <lower=0> parameter leaves unnormalised (tests/test_stan_peer.py checks it).
//
// bayesdense's own sampler samples the latents as offsets from the densities the scores imply
// (models/densing.py, "offset latents"); that is a reparameterisation of this same posterior.
// Every term is written with target += *_lpdf (not ~), so nothing depending on parameters is
// dropped; the normalising constants are kept too, which Stan's log_prob then includes.
functions {
  // score (percent) from a loss: d + c * sigmoid(gamma * (l - loss))  (bayesdense/laws.py, link)
  vector link(vector loss, vector c, vector gamma, vector l, vector d) {
    return d + c .* inv_logit(gamma .* (l - loss));
  }
}
data {
  int<lower=1> B;  // benchmarks
  // layer 1: reference runs, log loss ~ Normal(log L(N, D), loss_sd_log)
  int<lower=1> R;
  array[R] int<lower=1, upper=B> ref_bench;
  vector<lower=0>[R] ref_n;  // parameters, billions
  vector<lower=0>[R] ref_d;  // tokens, trillions
  vector<lower=0>[R] ref_loss;
  // layer 2: link points (role "fit"), score ~ Normal(link(loss), link_sd)
  int<lower=0> K;
  array[K] int<lower=1, upper=B> link_bench;
  vector[K] link_loss;
  vector[K] link_score;
  // layer 3: target models and their scores
  int<lower=1> M;
  vector[M] tau;  // years from the data's mid-date
  vector[M] log_n;  // log parameters, billions
  int<lower=1> O;
  array[O] int<lower=1, upper=M> obs_model;
  array[O] int<lower=1, upper=B> obs_bench;
  vector[O] obs_score;
  real<lower=0> d0;  // reference tokens D0, trillions
  real t_mid_days;  // the data's mid-date, days since the spec's time origin
  vector[B] chance;  // layers.chance_score: the link's floor is chance + link_floor_offset
  vector<lower=0, upper=1>[B] ceiling_frac;  // link_ceiling_frac (Fixed): c = (100 - d) * frac
  vector<lower=0>[B] score_sd;  // score_sd (Fixed), points
  // priors (spec.prior(...), per benchmark where PyMC has dims "benchmark")
  real growth_rate_mu;
  real<lower=0> growth_rate_sigma;
  real mid_mu;
  real<lower=0> mid_sigma;
  real<lower=0> omega_sigma;  // HalfNormal
  real<lower=0> lambda_shape;  // Gamma(shape, rate)
  real<lower=0> lambda_rate;
  vector[B] loss_a_mu;  // LogNormal
  vector<lower=0>[B] loss_a_sigma;
  vector[B] loss_alpha_mu;
  vector<lower=0>[B] loss_alpha_sigma;
  vector[B] loss_b_mu;
  vector<lower=0>[B] loss_b_sigma;
  vector[B] loss_beta_mu;
  vector<lower=0>[B] loss_beta_sigma;
  vector<lower=0>[B] loss_sd_log_sigma;  // HalfNormal
  vector[B] link_gamma_mu;  // LogNormal
  vector<lower=0>[B] link_gamma_sigma;
  vector[B] link_l_mu;  // Normal
  vector<lower=0>[B] link_l_sigma;
  vector[B] link_floor_offset_mu;  // Normal
  vector<lower=0>[B] link_floor_offset_sigma;
  vector<lower=0>[B] link_sd_sigma;  // HalfNormal
}
transformed data {
  real DAYS_PER_YEAR = 365.25;
  vector[R] log_ref_loss = log(ref_loss);
}
parameters {
  // the order of PyMC's value variables (model.value_vars)
  real growth_rate_per_year;
  real frontier_log_density_mid;
  real<lower=0> frontier_omega;
  real<lower=0> frontier_lambda;
  vector[M] log_density;
  vector<lower=0>[B] loss_a;
  vector<lower=0>[B] loss_alpha;
  vector<lower=0>[B] loss_b;
  vector<lower=0>[B] loss_beta;
  vector<lower=0>[B] loss_sd_log;
  vector<lower=0>[B] link_gamma;
  vector[B] link_l;
  vector[B] link_floor_offset;
  vector<lower=0>[B] link_sd;
}
model {
  vector[B] link_d = chance + link_floor_offset;
  vector[B] link_c = (100 - link_d) .* ceiling_frac;
  vector[B] loss_floor_d0 = loss_b .* pow(d0, -loss_beta);

  // priors
  target += normal_lpdf(growth_rate_per_year | growth_rate_mu, growth_rate_sigma);
  target += normal_lpdf(frontier_log_density_mid | mid_mu, mid_sigma);
  target += normal_lpdf(frontier_omega | 0, omega_sigma);
  target += gamma_lpdf(frontier_lambda | lambda_shape, lambda_rate);
  target += lognormal_lpdf(loss_a | loss_a_mu, loss_a_sigma);
  target += lognormal_lpdf(loss_alpha | loss_alpha_mu, loss_alpha_sigma);
  target += lognormal_lpdf(loss_b | loss_b_mu, loss_b_sigma);
  target += lognormal_lpdf(loss_beta | loss_beta_mu, loss_beta_sigma);
  target += normal_lpdf(loss_sd_log | 0, loss_sd_log_sigma);
  target += lognormal_lpdf(link_gamma | link_gamma_mu, link_gamma_sigma);
  target += normal_lpdf(link_l | link_l_mu, link_l_sigma);
  target += normal_lpdf(link_floor_offset | link_floor_offset_mu, link_floor_offset_sigma);
  target += normal_lpdf(link_sd | 0, link_sd_sigma);

  // layer 4, the trend: stochastic frontier (half-normal inefficiency), marginally skew-normal
  target += skew_normal_lpdf(log_density | frontier_log_density_mid + growth_rate_per_year * tau, frontier_omega,
                             -frontier_lambda);

  // layer 1: the loss law on the reference runs
  {
    vector[R] pred = loss_a[ref_bench] .* pow(ref_n, -loss_alpha[ref_bench])
                     + loss_b[ref_bench] .* pow(ref_d, -loss_beta[ref_bench]);
    target += normal_lpdf(log_ref_loss | log(pred), loss_sd_log[ref_bench]);
  }

  // layer 2: the link on its points
  if (K > 0) {
    target += normal_lpdf(link_score | link(link_loss, link_c[link_bench], link_gamma[link_bench], link_l[link_bench],
                                            link_d[link_bench]), link_sd[link_bench]);
  }

  // layer 3: each score through the curves at D0, from the model's effective size N * rho
  {
    vector[O] loss_t = loss_a[obs_bench] .* exp(-loss_alpha[obs_bench] .* (log_n[obs_model] + log_density[obs_model]))
                       + loss_floor_d0[obs_bench];
    target += normal_lpdf(obs_score | link(loss_t, link_c[obs_bench], link_gamma[obs_bench], link_l[obs_bench],
                                           link_d[obs_bench]), score_sd[obs_bench]);
  }
}
generated quantities {
  // PyMC's Deterministics of the same names
  real growth_rate_per_day = growth_rate_per_year / DAYS_PER_YEAR;
  real intercept = frontier_log_density_mid - growth_rate_per_year * t_mid_days / DAYS_PER_YEAR;
  real noise_sd = frontier_omega / sqrt(1 + square(frontier_lambda));
  real inefficiency_scale = frontier_omega * frontier_lambda / sqrt(1 + square(frontier_lambda));
  vector[B] link_d = chance + link_floor_offset;
  vector[B] link_c = (100 - link_d) .* ceiling_frac;
  vector[B] loss_floor_d0 = loss_b .* pow(d0, -loss_beta);
  vector[B] max_score = link(loss_floor_d0, link_c, link_gamma, link_l, link_d);
}
