<?php
// PHPUnit bootstrap: the host's autoloader plus the test support classes.
// The end-to-end tests need (environment, defaults in brackets):
//   OROHOST_SIDECAR   the built oro-msync binary
//   OROHOST_GRAPHSIM  the built cmd/graphsim binary
//   OROHOST_PG        PostgreSQL, a role that may CREATE DATABASE
//                     [pgsql:host=127.0.0.1;port=5432 user orohost password orohost]
//   OROHOST_AMQP      RabbitMQ [amqp://guest:guest@127.0.0.1:5672]; the suite makes
//                     its own vhost with rabbitmqctl
// Without them the tests are skipped, except under CI=true, where they fail.

declare(strict_types=1);

require __DIR__ . '/../autoload.php';
require __DIR__ . '/Support/Infra.php';
require __DIR__ . '/Support/E2ETestCase.php';
