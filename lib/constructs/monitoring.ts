/**
 * Alarms and a dashboard. The custom metrics are the ones the handlers emit through
 * lambdas/observability.ts; names, namespace and the `service` dimension come from there.
 */
import { Duration } from 'aws-cdk-lib';
import type { HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { METRICS, METRICS_NAMESPACE, SERVICE_NAME, type MetricKey } from '../../lambdas/observability.js';

/** Metric the access-log filter writes for every request API Gateway throttled (HTTP 429). */
export const API_THROTTLED_METRIC = 'ApiThrottledRequests';

export interface MonitoringProps {
  readonly functions: Record<string, IFunction>;
  /** HTTP API variant: its stage and access logs. */
  readonly httpApi?: { readonly stage: HttpStage; readonly accessLogs: logs.ILogGroup };
  /** Function URL variant: the router function behind the URL. */
  readonly router?: IFunction;
  readonly dashboard: boolean;
  readonly alarmTopicArn?: string;
}

const PERIOD = Duration.minutes(5);

export class Monitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard?: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const fns = Object.entries(props.functions);
    const sumOf = (label: string, metric: (fn: IFunction) => cloudwatch.IMetric) =>
      new cloudwatch.MathExpression({
        label,
        // The ids are only names inside the expression (m0, m1, ...).
        expression: fns.map((_, i) => `m${i}`).join(' + '),
        usingMetrics: Object.fromEntries(fns.map(([, fn], i) => [`m${i}`, metric(fn)])),
        period: PERIOD,
      });

    // Server errors as clients see them: a handler that caught its error still answered 5xx.
    const serverErrors = props.httpApi
      ? props.httpApi.stage.metricServerError({ period: PERIOD, statistic: 'Sum' })
      : props.router?.metric('Url5xxCount', { period: PERIOD, statistic: 'Sum' });
    if (serverErrors) {
      this.alarm('Api5xx', serverErrors, 5, 'the API answered 5 or more 5xx in 5 minutes');
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
      this.alarm(
        'ApiThrottled',
        filter.metric({ period: PERIOD, statistic: 'Sum' }),
        10,
        'API Gateway throttled 10 or more requests in 5 minutes: raise throttleRateLimit or find the caller',
      );
    }

    this.alarm(
      'LambdaErrors',
      sumOf('Lambda errors', (fn) => fn.metricErrors({ period: PERIOD, statistic: 'Sum' })),
      1,
      'a handler crashed or timed out (includes the sweeper)',
    );
    this.alarm(
      'LambdaThrottles',
      sumOf('Lambda throttles', (fn) => fn.metricThrottles({ period: PERIOD, statistic: 'Sum' })),
      1,
      'Lambda refused invocations for lack of concurrency',
    );

    if (props.alarmTopicArn) {
      const action = new SnsAction(sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn));
      for (const alarm of this.alarms) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }

    if (props.dashboard) this.dashboard = this.buildDashboard(props, fns);
  }

  private alarm(id: string, metric: cloudwatch.IMetric, threshold: number, description: string): void {
    this.alarms.push(
      new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No traffic is the idle normal, not an alarm.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      }),
    );
  }

  private buildDashboard(props: MonitoringProps, fns: [string, IFunction][]): cloudwatch.Dashboard {
    const custom = (key: MetricKey, statistic = 'Sum') =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: METRICS[key].name,
        dimensionsMap: { service: SERVICE_NAME },
        statistic,
        period: PERIOD,
      });
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(1),
    });

    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Uploads',
        width: 12,
        left: [custom('uploadsStarted'), custom('uploadsCompleted'), custom('uploadsAborted'), custom('uploadsExpired')],
      }),
      new cloudwatch.GraphWidget({
        title: 'Bytes uploaded and upload duration',
        width: 12,
        left: [custom('bytesUploaded')],
        right: [custom('uploadDuration', 'p90'), custom('uploadDuration', 'Average')],
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
          expression: `e${i} + t${i}`,
          usingMetrics: { [`e${i}`]: fn.metricErrors({ period: PERIOD }), [`t${i}`]: fn.metricThrottles({ period: PERIOD }) },
          period: PERIOD,
        }),
      ),
      perFunction('Lambda duration (p90)', (fn, label) => fn.metricDuration({ period: PERIOD, statistic: 'p90', label })),
    );
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 24, alarms: this.alarms }),
    );
    return dashboard;
  }
}
