// Stan's NUTS with a dense (or diagonal) adapted metric on one Stan model, as CmdStan's
// `sample adapt engaged=1 algorithm=hmc engine=nuts metric=dense_e` runs it: the same service
// functions (stan::services::sample::hmc_nuts_{dense,diag}_e_adapt) with CmdStan's defaults.
//
// Why this file: pystan 3 / httpstan expose only the diagonal metric, and CmdStan itself cannot be
// downloaded here. This driver is compiled against the Stan sources that httpstan ships (so the
// same Stan version as pystan), by benchmarks/bench_peers.py (build_driver), with the model's C++
// from httpstan's stanc included as MODEL_HPP.
//
//   nuts_driver METRIC DATA_JSON OUT_PREFIX SEED CHAINS WARMUP SAMPLES DELTA MAX_DEPTH THREADS
//
// METRIC is dense_e or diag_e. Chains run in parallel on THREADS threads (TBB), seeded as CmdStan
// seeds them (random_seed SEED, chain ids 1..CHAINS), from random inits in (-2, 2) on the
// unconstrained scale. Each chain's draws go to OUT_PREFIX-<chain>.csv in CmdStan's format
// (comments start with '#', then the header, then one line per draw: lp__, accept_stat__,
// stepsize__, treedepth__, n_leapfrog__, divergent__, energy__, the parameters and generated
// quantities; 12 significant digits), with the adapted step size and metric and the elapsed
// times as comments.
#include MODEL_HPP

#include <stan/callbacks/interrupt.hpp>
#include <stan/callbacks/stream_logger.hpp>
#include <stan/callbacks/unique_stream_writer.hpp>
#include <stan/callbacks/writer.hpp>
#include <stan/io/empty_var_context.hpp>
#include <stan/io/json/json_data.hpp>
#include <stan/math/prim/core/init_threadpool_tbb.hpp>
#include <stan/services/sample/hmc_nuts_dense_e_adapt.hpp>
#include <stan/services/sample/hmc_nuts_diag_e_adapt.hpp>
#include <stan/services/util/create_unit_e_dense_inv_metric.hpp>
#include <stan/services/util/create_unit_e_diag_inv_metric.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 11) {
    std::cerr << "usage: " << argv[0]
              << " METRIC DATA_JSON OUT_PREFIX SEED CHAINS WARMUP SAMPLES DELTA MAX_DEPTH THREADS\n";
    return 2;
  }
  const std::string metric = argv[1];
  if (metric != "dense_e" && metric != "diag_e") {
    std::cerr << "METRIC must be dense_e or diag_e, got " << metric << "\n";
    return 2;
  }
  const std::string data_file = argv[2];
  const std::string prefix = argv[3];
  const unsigned int seed = std::stoul(argv[4]);
  const size_t chains = std::stoul(argv[5]);
  const int warmup = std::stoi(argv[6]);
  const int samples = std::stoi(argv[7]);
  const double delta = std::stod(argv[8]);
  const int max_depth = std::stoi(argv[9]);
  const int threads = std::stoi(argv[10]);

  // CmdStan's defaults for everything else
  const unsigned int init_chain_id = 1;
  const double init_radius = 2.0;
  const int num_thin = 1;
  const bool save_warmup = false;
  const int refresh = 0;
  const double stepsize = 1.0, stepsize_jitter = 0.0;
  const double gamma = 0.05, kappa = 0.75, t0 = 10.0;
  const unsigned int init_buffer = 75, term_buffer = 50, window = 25;

  std::ifstream data_stream(data_file);
  if (!data_stream) {
    std::cerr << "cannot read " << data_file << "\n";
    return 2;
  }
  stan::json::json_data data(data_stream);
  data_stream.close();
  stan::model::model_base& model = new_model(data, seed, &std::cout);

  stan::callbacks::interrupt interrupt;
  stan::callbacks::stream_logger logger(std::cout, std::cout, std::cout, std::cerr, std::cerr);
  std::vector<std::shared_ptr<stan::io::var_context>> inits;
  std::vector<std::shared_ptr<stan::io::var_context>> inv_metrics;
  std::vector<stan::callbacks::writer> init_writers(chains);
  std::vector<stan::callbacks::writer> diagnostic_writers(chains);
  std::vector<stan::callbacks::unique_stream_writer<std::ofstream>> sample_writers;
  sample_writers.reserve(chains);
  const size_t n = model.num_params_r();
  for (size_t c = 0; c < chains; ++c) {
    inits.push_back(std::make_shared<stan::io::empty_var_context>());
    if (metric == "dense_e")
      inv_metrics.push_back(
          std::make_shared<stan::io::array_var_context>(stan::services::util::create_unit_e_dense_inv_metric(n)));
    else
      inv_metrics.push_back(
          std::make_shared<stan::io::array_var_context>(stan::services::util::create_unit_e_diag_inv_metric(n)));
    const std::string path = prefix + "-" + std::to_string(c + 1) + ".csv";
    auto stream = std::make_unique<std::ofstream>(path);
    stream->precision(12);  // CmdStan writes 6 significant digits unless asked (sig_figs); 12 keeps draws exact enough
    sample_writers.emplace_back(std::move(stream), "# ");
  }

  int rc = 0;
  tbb::task_arena& arena = stan::math::init_threadpool_tbb(threads);
  arena.execute([&] {
    if (metric == "dense_e")
      rc = stan::services::sample::hmc_nuts_dense_e_adapt(
          model, chains, inits, inv_metrics, seed, init_chain_id, init_radius, warmup, samples, num_thin, save_warmup,
          refresh, stepsize, stepsize_jitter, max_depth, delta, gamma, kappa, t0, init_buffer, term_buffer, window,
          interrupt, logger, init_writers, sample_writers, diagnostic_writers);
    else
      rc = stan::services::sample::hmc_nuts_diag_e_adapt(
          model, chains, inits, inv_metrics, seed, init_chain_id, init_radius, warmup, samples, num_thin, save_warmup,
          refresh, stepsize, stepsize_jitter, max_depth, delta, gamma, kappa, t0, init_buffer, term_buffer, window,
          interrupt, logger, init_writers, sample_writers, diagnostic_writers);
  });
  delete &model;
  return rc;
}
