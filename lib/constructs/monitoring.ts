/**
 * Alarms, the SNS topic they notify, and a dashboard. The custom metrics are the ones the handlers
 * emit through lambdas/observability.ts; names, namespace and the `service` dimension come from there.
 */
import { Aws, Duration } from 'aws-cdk-lib';
import type { HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRICS, METRICS_NAMESPACE, SERVICE_NAME, type MetricKey } from '../../lambdas/observability.js';
import { acknowledgeAlarmTopic } from '../nag.js';

/** Metric the access-log filter writes for every request API Gateway throttled (HTTP 429). */
export const API_THROTTLED_METRIC = 'ApiThrottledRequests';

/** An invocation this close to its timeout (share of the timeout) is a timeout in waiting. */
export const DURATION_ALARM_SHARE = 0.85;

export interface MonitoredFunction {
  readonly fn: IFunction;
  readonly timeout: Duration;
}

export interface MonitoringProps {
  /** Every function, by id (init, parts, ..., sweep). */
  readonly functions: Record<string, MonitoredFunction>;
  /** The function id of the sweeper among `functions`. */
  readonly sweeperId: string;
  /** Time between two sweeper runs (the EventBridge schedule). */
  readonly sweepInterval: Duration;
  /** The DynamoDB tables, by a name used in alarm ids (Sessions, Tokens). */
  readonly tables: Record<string, ITable>;
  /** HTTP API variant: its stage and access logs. */
  readonly httpApi?: { readonly stage: HttpStage; readonly accessLogs: logs.ILogGroup };
  /** Function URL variant: the router function behind the URL. */
  readonly router?: IFunction;
  readonly dashboard: boolean;
  /** An existing topic to notify instead of creating one. */
  readonly alarmTopicArn?: string;
  /** Subscribed to the topic (e-mail, confirmed by the recipient). */
  readonly alarmEmail?: string;
}

const PERIOD = Duration.minutes(5);

interface AlarmSpec {
  readonly threshold: number;
  readonly description: string;
  /** Default: metric >= threshold. */
  readonly comparison?: cloudwatch.ComparisonOperator;
  /** Default: missing data is the idle normal (no traffic), not an alarm. */
  readonly missing?: cloudwatch.TreatMissingData;
}

export class Monitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  /** Every alarm notifies it, on alarm and on OK. */
  readonly topic: sns.ITopic;
  readonly dashboard?: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.topic = props.alarmTopicArn ? sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn) : this.createTopic();
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    const fns = Object.entries(props.functions);
    const custom = (key: MetricKey, period: Duration, statistic = 'Sum') =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: METRICS[key].name,
        dimensionsMap: { service: SERVICE_NAME },
        statistic,
        period,
      });
    /**
     * Sum of several metrics. FILL(.., 0): arithmetic on time series only has values where every
     * series has one, and a function without invocations in a period has no data point.
     */
    const sumOf = (label: string, metrics: cloudwatch.IMetric[]) =>
      new cloudwatch.MathExpression({
        label,
        // The ids are only names inside the expression (m0, m1, ...).
        expression: metrics.map((_, i) => `FILL(m${i}, 0)`).join(' + '),
        usingMetrics: Object.fromEntries(metrics.map((m, i) => [`m${i}`, m])),
        period: PERIOD,
      });

    // Server errors as clients see them: a handler that caught its error still answered 5xx.
    const serverErrors = props.httpApi
      ? props.httpApi.stage.metricServerError({ period: PERIOD, statistic: 'Sum' })
      : props.router?.metric('Url5xxCount', { period: PERIOD, statistic: 'Sum' });
    if (serverErrors) {
      this.alarm('Api5xx', serverErrors, { threshold: 5, description: 'the API answered 5 or more 5xx in 5 minutes, twice within 15' });
    }

    if (props.httpApi) {
      // HTTP APIs publish no throttle metric; their access logs record every 429.
      const filter = new logs.MetricFilter(this, 'ThrottledFilter', {
        logGroup: props.httpApi.accessLogs,
        filterPattern: logs.FilterPattern.numberValue('$.status', '=', 429),
        metricNamespace: METRICS_NAMESPACE,
        metricName: API_THROTTLED_METRIC,
        metricValue: '1',
      });
      this.alarm('ApiThrottled', filter.metric({ period: PERIOD, statistic: 'Sum' }), {
        threshold: 10,
        description: 'API Gateway throttled 10 or more requests in 5 minutes, twice within 15: raise throttleRateLimit or find the caller',
      });
    }

    this.alarm(
      'LambdaErrors',
      sumOf('Lambda errors', fns.map(([, f]) => f.fn.metricErrors({ period: PERIOD, statistic: 'Sum' }))),
      { threshold: 1, description: 'handlers crashed or timed out in 2 of the last 3 five-minute periods (a failing sweeper: SweeperNotRunning)' },
    );
    this.alarm(
      'LambdaThrottles',
      sumOf('Lambda throttles', fns.map(([, f]) => f.fn.metricThrottles({ period: PERIOD, statistic: 'Sum' }))),
      { threshold: 1, description: 'Lambda refused invocations for lack of concurrency (reserved or account)' },
    );

    // The sweeper runs once per interval: one data point per period of that length.
    this.alarm('SweepAbortFailures', custom('sweepAbortFailures', props.sweepInterval), {
      threshold: 0,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: 'the sweeper could not abort expired multipart uploads in 2 of its last 3 runs (its log says why)',
    });
    // Twice the interval: one late or skipped run is not yet an outage.
    this.alarm('SweeperNotRunning', custom('sweepRuns', props.sweepInterval.plus(props.sweepInterval)), {
      threshold: 1,
      comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      // No data point means no run finished: crashed, throttled, or not scheduled.
      missing: cloudwatch.TreatMissingData.BREACHING,
      description: 'the sweeper finished no run in 2 of the last 3 periods of twice its interval: abandoned uploads are not reclaimed',
    });

    for (const [name, table] of Object.entries(props.tables)) {
      this.alarm(
        `${name}TableThrottles`,
        sumOf(`${name} table throttled requests`, [
          table.metric('ReadThrottleEvents', { period: PERIOD, statistic: 'Sum' }),
          table.metric('WriteThrottleEvents', { period: PERIOD, statistic: 'Sum' }),
        ]),
        { threshold: 1, description: `DynamoDB throttled reads or writes of the ${name.toLowerCase()} table in 2 of the last 3 five-minute periods` },
      );
    }

    for (const [fid, f] of fns) {
      const period = fid === props.sweeperId ? props.sweepInterval : PERIOD;
      this.alarm(`${pascal(fid)}DurationNearTimeout`, f.fn.metricDuration({ period, statistic: 'Maximum' }), {
        threshold: f.timeout.toMilliseconds() * DURATION_ALARM_SHARE,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description: `${fid}: an invocation took more than ${DURATION_ALARM_SHARE * 100} % of its ${f.timeout.toSeconds()} s timeout, twice within 3 periods`,
      });
    }

    const action = new SnsAction(this.topic);
    for (const alarm of this.alarms) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }

    if (props.dashboard) this.dashboard = this.buildDashboard(props, fns.map(([k, f]) => [k, f.fn]), (key, statistic) => custom(key, PERIOD, statistic));
  }

  /** The stack's own topic: TLS-only publishing, and CloudWatch of this account may publish. */
  private createTopic(): sns.Topic {
    const topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'mpu alarms', enforceSSL: true });
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    acknowledgeAlarmTopic(topic);
    return topic;
  }

  /** Every alarm: 2 of 3 data points, so one noisy period is not a page. */
  private alarm(id: string, metric: cloudwatch.IMetric, spec: AlarmSpec): void {
    this.alarms.push(
      new cloudwatch.Alarm(this, id, {
        metric,
        threshold: spec.threshold,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        comparisonOperator: spec.comparison ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: spec.missing ?? cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: spec.description,
      }),
    );
  }

  private buildDashboard(
    props: MonitoringProps,
    fns: [string, IFunction][],
    custom: (key: MetricKey, statistic?: string) => cloudwatch.Metric,
  ): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(1),
    });

    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Uploads',
        width: 8,
        left: [custom('uploadsStarted'), custom('uploadsCompleted'), custom('uploadsAborted'), custom('uploadsExpired')],
      }),
      new cloudwatch.GraphWidget({
        title: 'Bytes uploaded and upload duration',
        width: 8,
        left: [custom('bytesUploaded')],
        right: [custom('uploadDuration', 'p90'), custom('uploadDuration', 'Average')],
      }),
      new cloudwatch.GraphWidget({
        title: 'Sweeper runs and failed aborts',
        width: 8,
        left: [custom('sweepRuns')],
        right: [custom('sweepAbortFailures')],
      }),
    );

    if (props.httpApi) {
      const stage = props.httpApi.stage;
      dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'API requests and errors',
          width: 12,
          left: [stage.metricCount({ period: PERIOD }), stage.metricClientError({ period: PERIOD })],
          right: [stage.metricServerError({ period: PERIOD })],
        }),
        new cloudwatch.GraphWidget({
          title: 'API latency (p90)',
          width: 12,
          left: [
            stage.metricLatency({ period: PERIOD, statistic: 'p90' }),
            stage.metricIntegrationLatency({ period: PERIOD, statistic: 'p90' }),
          ],
        }),
      );
    }

    const perFunction = (title: string, metric: (fn: IFunction, label: string, i: number) => cloudwatch.IMetric) =>
      new cloudwatch.GraphWidget({ title, width: 8, left: fns.map(([label, fn], i) => metric(fn, label, i)) });
    dashboard.addWidgets(
      perFunction('Lambda invocations', (fn, label) => fn.metricInvocations({ period: PERIOD, label })),
      perFunction('Lambda errors and throttles', (fn, label, i) =>
        new cloudwatch.MathExpression({
          label,
          // Ids are unique per graph, so each function's pair gets its own.
          expression: `FILL(e${i}, 0) + FILL(t${i}, 0)`,
          usingMetrics: { [`e${i}`]: fn.metricErrors({ period: PERIOD }), [`t${i}`]: fn.metricThrottles({ period: PERIOD }) },
          period: PERIOD,
        }),
      ),
      perFunction('Lambda duration (p90)', (fn, label) => fn.metricDuration({ period: PERIOD, statistic: 'p90', label })),
    );
    dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 24, alarms: this.alarms }));
    return dashboard;
  }
}

function pascal(id: string): string {
  return id.charAt(0).toUpperCase() + id.slice(1);
}
