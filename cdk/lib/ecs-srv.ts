import * as fs from 'fs';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import * as cfninc from 'aws-cdk-lib/cloudformation-include';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as sam from 'aws-cdk-lib/aws-sam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** How Route 53 answers a service name. */
export enum RoutingPolicy {
  /** One task per answer, drawn by weight. */
  WEIGHTED = 'weighted',
  /** Up to eight tasks per answer. */
  MULTIVALUE = 'multivalue',
}

/**
 * The settings of an ecs-srv deployment: one typed prop for each parameter of
 * `template.yaml`. A prop left out takes the template's default.
 */
export interface EcsSrvProps {
  /** The function's code: the zip `make package` builds (`lambda.Code.fromAsset`) or one in S3. */
  readonly code: lambda.Code;
  /** The private hosted zone that receives the records, or its id (HostedZoneId). */
  readonly hostedZone: route53.IHostedZone | string;
  /** The clusters to publish, or their ARNs (ClusterArns); none publishes every cluster of the account and region. */
  readonly clusters?: Array<ecs.ICluster | string>;
  /** Domain inside the zone under which every record is written, lower case, no trailing dot (RecordDomain). */
  readonly recordDomain?: string;
  /** TTL of every record, whole seconds (RecordTtl). */
  readonly recordTtl?: cdk.Duration;
  /** Weighted or multivalue answers (RoutingPolicy). */
  readonly routingPolicy?: RoutingPolicy;
  /** Weight of a task without an ecs-srv.weight label, 0 to 255 (DefaultWeight). */
  readonly defaultWeight?: number;
  /** Also keep the whole SRV set per service and port (SrvSets). */
  readonly srvSets?: boolean;
  /** Tag at the head of every SetIdentifier; deployments sharing a zone need different ones (RecordOwner). */
  readonly recordOwner?: string;
  /** Put the cluster in every service name (ClusterInNames). */
  readonly clusterInNames?: boolean;
  /** Publish under this region's names with a latency alias at the shared names (RegionalNames). */
  readonly regionalNames?: boolean;
  /** The role in the zone's account to assume for Route 53, or its ARN (HostedZoneRoleArn). */
  readonly hostedZoneRole?: iam.IRole | string;
  /** External id that role's trust policy asks for (HostedZoneExternalId). */
  readonly hostedZoneExternalId?: string;
  /** Publish tasks with health checks only once HEALTHY (HealthGate). */
  readonly healthGate?: boolean;
  /** Task events through the inbox, the packer and the FIFO work queue to one writer (UseSqsQueue). */
  readonly useSqsQueue?: boolean;
  /**
   * How long the packer gathers task events before it packs them for the writer, whole
   * seconds from 1 to 300 (BatchingWindowSeconds): longer means fewer Route 53 requests in a
   * deploy and more time from event to DNS.
   */
  readonly batchingWindow?: cdk.Duration;
  /** Most packed messages per writer invocation on the SQS path, 1 to 10 (SqsBatchSize). */
  readonly sqsBatchSize?: number;
  /** How soon a task not healthy yet is looked at again, whole seconds (HealthRecheckSeconds). */
  readonly healthRecheck?: cdk.Duration;
  /** When to reconcile, or false for never (ReconcileSchedule). */
  readonly reconcileSchedule?: events.Schedule | false;
  /** Route 53 requests per second at most, 0.1 to 100 (Route53WriteRate). */
  readonly route53WriteRate?: number;
  /** The topic the alarms notify, or its ARN (AlarmTopicArn). */
  readonly alarmTopic?: sns.ITopic | string;
  /** The event lag p99 above which the lag alarm fires, whole seconds (LagAlarmSeconds). */
  readonly lagAlarmThreshold?: cdk.Duration;
  /** The function's architecture; build the code for it (Architecture). */
  readonly architecture?: lambda.Architecture;
  /** Withdraw every record this deployment owns when the stack is deleted (PurgeOnDelete). */
  readonly purgeOnDelete?: boolean;
}

const onOff = (flag: boolean | undefined) => (flag === undefined ? undefined : flag ? 'on' : 'off');
const trueFalse = (flag: boolean | undefined) => (flag === undefined ? undefined : String(flag));
const seconds = (duration: cdk.Duration | undefined) => duration?.toSeconds();

/**
 * Each parameter of template.yaml, and the prop that gives its value (`undefined`: the
 * template's default). Its type names every parameter, so a parameter that the template gains
 * fails the tests until it has a prop here, and the construct refuses a template that has
 * one it does not know.
 */
export const PARAMETER_VALUES = {
  HostedZoneId: (p: EcsSrvProps) =>
    typeof p.hostedZone === 'string' ? p.hostedZone : p.hostedZone.hostedZoneId,
  ClusterArns: (p: EcsSrvProps) =>
    p.clusters?.map((cluster) => (typeof cluster === 'string' ? cluster : cluster.clusterArn)).join(','),
  RecordDomain: (p: EcsSrvProps) => p.recordDomain,
  RecordTtl: (p: EcsSrvProps) => seconds(p.recordTtl),
  RoutingPolicy: (p: EcsSrvProps) => p.routingPolicy,
  DefaultWeight: (p: EcsSrvProps) => p.defaultWeight,
  SrvSets: (p: EcsSrvProps) => onOff(p.srvSets),
  RecordOwner: (p: EcsSrvProps) => p.recordOwner,
  ClusterInNames: (p: EcsSrvProps) => onOff(p.clusterInNames),
  RegionalNames: (p: EcsSrvProps) => onOff(p.regionalNames),
  HostedZoneRoleArn: (p: EcsSrvProps) =>
    typeof p.hostedZoneRole === 'object' ? p.hostedZoneRole.roleArn : p.hostedZoneRole,
  HostedZoneExternalId: (p: EcsSrvProps) => p.hostedZoneExternalId,
  HealthGate: (p: EcsSrvProps) => onOff(p.healthGate),
  UseSqsQueue: (p: EcsSrvProps) => trueFalse(p.useSqsQueue),
  BatchingWindowSeconds: (p: EcsSrvProps) => seconds(p.batchingWindow),
  SqsBatchSize: (p: EcsSrvProps) => p.sqsBatchSize,
  HealthRecheckSeconds: (p: EcsSrvProps) => seconds(p.healthRecheck),
  ReconcileSchedule: (p: EcsSrvProps) =>
    p.reconcileSchedule === false ? '' : p.reconcileSchedule?.expressionString,
  Route53WriteRate: (p: EcsSrvProps) => p.route53WriteRate,
  AlarmTopicArn: (p: EcsSrvProps) =>
    typeof p.alarmTopic === 'object' ? p.alarmTopic.topicArn : p.alarmTopic,
  LagAlarmSeconds: (p: EcsSrvProps) => seconds(p.lagAlarmThreshold),
  Architecture: (p: EcsSrvProps) => p.architecture?.name,
  PurgeOnDelete: (p: EcsSrvProps) => trueFalse(p.purgeOnDelete),
} satisfies Record<string, (props: EcsSrvProps) => string | number | undefined>;

/** The name of a template parameter that EcsSrvProps covers. */
export type TemplateParameter = keyof typeof PARAMETER_VALUES;

/** template.yaml, found beside this package's folder: the one definition of the stack. */
export function templatePath(): string {
  let folder = __dirname;
  while (!fs.existsSync(path.join(folder, 'package.json'))) {
    const parent = path.dirname(folder);
    if (parent === folder) {
      throw new Error(`ecs-srv: no package.json above ${__dirname}`);
    }
    folder = parent;
  }
  return path.join(folder, '..', 'template.yaml');
}

/** What the template says of itself, read once through CfnInclude in a stack of its own. */
export interface TemplateFacts {
  /** Each parameter's type and default. */
  readonly parameters: Record<string, { type: string; default?: unknown }>;
  /** Each condition's expression, as CloudFormation JSON. */
  readonly conditions: Record<string, unknown>;
}

let facts: TemplateFacts | undefined;

export function templateFacts(): TemplateFacts {
  if (facts === undefined) {
    const stack = new cdk.Stack(undefined, 'EcsSrvTemplate');
    new cfninc.CfnInclude(stack, 'Template', { templateFile: templatePath() });
    const named = <T extends cdk.CfnElement>(kind: abstract new (...args: never[]) => T) =>
      stack.node
        .findAll()
        .filter((element): element is T => element instanceof kind)
        .map((element) => [stack.resolve(element.logicalId) as string, element] as const);
    facts = {
      parameters: Object.fromEntries(
        named(cdk.CfnParameter).map(([name, parameter]) => [name, { type: parameter.type, default: parameter.default }]),
      ),
      conditions: Object.fromEntries(
        named(cdk.CfnCondition).map(([name, condition]) => [name, stack.resolve(condition.expression)]),
      ),
    };
  }
  return facts;
}

/** A value known only at deployment (a Ref or GetAtt of another resource). */
const DEPLOY_TIME = Symbol('deploy-time');
type Known = string | number | typeof DEPLOY_TIME;

/**
 * A condition's value when it can be told at synthesis. CloudFormation allows only parameters
 * in conditions, so a condition on a parameter given a deploy-time value (a cluster, topic or
 * role of the same app) is decided here: such a value is never empty, which is all the
 * template's conditions ask of them.
 */
function decide(expression: unknown, values: Record<string, Known>, conditions: Record<string, unknown>): boolean | undefined {
  const known = (operand: unknown): Known | undefined => {
    if (typeof operand === 'string' || typeof operand === 'number') return operand;
    const name = (operand as { Ref?: string })?.Ref;
    return name === undefined ? undefined : values[name];
  };
  const [operator, args] = Object.entries(expression as Record<string, unknown[]>)[0] ?? [];
  switch (operator) {
    case 'Fn::Equals': {
      const [left, right] = args.map(known);
      if (left === undefined || right === undefined) return undefined;
      if (left === DEPLOY_TIME || right === DEPLOY_TIME) {
        return left === '' || right === '' ? false : undefined;
      }
      return String(left) === String(right);
    }
    case 'Fn::Not': {
      const inner = decide(args[0], values, conditions);
      return inner === undefined ? undefined : !inner;
    }
    case 'Fn::And':
    case 'Fn::Or': {
      const all = args.map((arg) => decide(arg, values, conditions));
      if (all.some((value) => value === undefined)) return undefined;
      return operator === 'Fn::And' ? all.every(Boolean) : all.some(Boolean);
    }
    case 'Condition':
      return decide(conditions[args as unknown as string], values, conditions);
    default:
      return undefined;
  }
}

/** Whether an expression reads, directly or through other conditions, a deploy-time value. */
function readsDeployTime(expression: unknown, values: Record<string, Known>, conditions: Record<string, unknown>): boolean {
  if (Array.isArray(expression)) return expression.some((item) => readsDeployTime(item, values, conditions));
  if (expression === null || typeof expression !== 'object') return false;
  return Object.entries(expression).some(([key, value]) =>
    (key === 'Ref' && values[value as string] === DEPLOY_TIME) ||
    (key === 'Condition' && readsDeployTime(conditions[value as string], values, conditions)) ||
    readsDeployTime(value, values, conditions),
  );
}

/**
 * ecs-srv in a CDK app: the resources of the project's `template.yaml` (SAM), included through
 * `cloudformation-include` with every parameter given by a prop (or the template's default),
 * so that the template stays the one definition of the infrastructure. The stack keeps the
 * SAM transform and the template's parameters, whose defaults are the props' values.
 *
 * One per stack: the template's logical ids are kept, so that a stack moved from SAM to the
 * CDK keeps its resources, and the function's role keeps the name (`<stack>-PublisherRole-*`)
 * that `zone-role.yaml` trusts.
 */
export class EcsSrv extends Construct {
  /** The included template, for escape hatches (`getResource('PublisherFunction')`, ...). */
  public readonly template: cfninc.CfnInclude;
  /** The publisher function's ARN. */
  public readonly functionArn: string;
  /** The publisher function's name. */
  public readonly functionName: string;
  /** The dead-letter queue of failed events and runs. */
  public readonly deadLetterQueueUrl: string;
  /** The value given to each template parameter. */
  public readonly parameterValues: Readonly<Record<string, string | number>>;

  constructor(scope: Construct, id: string, props: EcsSrvProps) {
    super(scope, id);
    const stack = cdk.Stack.of(this);
    const others = stack.node.findAll().filter((element) => element instanceof EcsSrv && element !== this);
    if (others.length > 0) {
      throw new Error(`ecs-srv: one EcsSrv per stack (${others[0].node.path} is in ${stack.stackName} already)`);
    }

    const { parameters, conditions } = templateFacts();
    const values: Record<string, string | number> = {};
    for (const [name, parameter] of Object.entries(parameters)) {
      const valueOf = (PARAMETER_VALUES as Record<string, (p: EcsSrvProps) => string | number | undefined>)[name];
      if (valueOf === undefined) {
        throw new Error(`ecs-srv: template.yaml has a parameter ${name} that EcsSrvProps does not cover`);
      }
      const value = valueOf(props) ?? parameter.default;
      if (value === undefined) {
        throw new Error(`ecs-srv: ${name} has no default; give its prop`);
      }
      values[name] = parameter.type === 'Number' ? Number(value) : String(value);
    }
    this.parameterValues = values;

    // A literal value becomes its parameter's default: the stack keeps the template's
    // parameters, so CloudFormation checks each value against the template's constraints
    // and the conditions stay what they are. A deploy-time value (a zone, cluster, topic or
    // role of the same app) cannot be a parameter's default: it replaces its parameter, and
    // the conditions that read it are decided here, since CloudFormation allows only
    // parameters in conditions.
    const deployTime = Object.fromEntries(Object.entries(values).filter(([, value]) => cdk.Token.isUnresolved(value)));
    this.template = new cfninc.CfnInclude(this, 'Template', {
      templateFile: templatePath(),
      parameters: deployTime,
    });
    for (const [name, value] of Object.entries(values)) {
      if (!(name in deployTime)) {
        this.template.getParameter(name).default = value;
      }
    }
    forgetReplacedParameters(this.template, Object.keys(deployTime));
    const known: Record<string, Known> = Object.fromEntries(
      Object.entries(values).map(([name, value]) => [name, name in deployTime ? DEPLOY_TIME : value]),
    );
    for (const [name, expression] of Object.entries(conditions)) {
      if (!readsDeployTime(expression, known, conditions)) continue;
      const decided = decide(expression, known, conditions);
      if (decided === undefined) {
        throw new Error(`ecs-srv: condition ${name} depends on a value known only at deployment`);
      }
      this.template.getCondition(name).expression = cdk.Fn.conditionEquals(String(decided), 'true');
      // A decided condition is constant (W8003), and may equal another one (W9053).
      for (const rule of ['W8003', 'W9053']) {
        cdk.Validations.of(stack).acknowledge({
          id: `CloudFormation-Validate::${rule}`,
          reason: `EcsSrv decides ${name} at synthesis: its value is known only at deployment`,
        });
      }
    }

    // The template passes AlarmTopicArn to the alarms only under HasAlarmTopic; CDK's
    // validation reads the empty default without the condition.
    cdk.Validations.of(this).acknowledge({
      id: 'CloudFormation-Validate::W1030',
      reason: 'AlarmTopicArn reaches the alarms only when HasAlarmTopic holds, never empty',
    });

    // Both functions are the one binary: the packer (on the SQS path) runs the writer's code
    // with PACK_INTO_QUEUE_URL set.
    const code = props.code.bind(this);
    const location = code.s3Location;
    if (location === undefined) {
      throw new Error('ecs-srv: the code must be a zip in S3 or an asset (lambda.Code.fromAsset, fromBucket)');
    }
    const functions = ['PublisherFunction', 'PackerFunction'].map((name) => this.template.getResource(name) as sam.CfnFunction);
    for (const each of functions) {
      each.codeUri = { bucket: location.bucketName, key: location.objectKey };
      if (location.objectVersion !== undefined) {
        // aws-cdk-lib types SAM's Version as a number; S3 version ids are strings.
        each.addPropertyOverride('CodeUri.Version', location.objectVersion);
      }
      props.code.bindToResource(each, { resourceProperty: 'CodeUri' });
      // `sam build`'s instructions; a CDK deployment brings its own code.
      each.cfnOptions.metadata = {};
    }
    const fn = functions[0];
    // aws-cdk-lib's SAM types ask for OnSuccess beside OnFailure, which SAM itself does
    // not; the template's value goes through unchanged as an override.
    const invokeConfig = fn.eventInvokeConfig;
    fn.eventInvokeConfig = undefined;
    fn.addPropertyOverride('EventInvokeConfig', pascalCase(invokeConfig));


    this.functionArn = fn.getAtt('Arn').toString();
    this.functionName = fn.ref;
    this.deadLetterQueueUrl = this.template.getResource('DeadLetterQueue').ref;
  }
}

/**
 * Takes the replaced parameters out of the console's parameter groups
 * (`AWS::CloudFormation::Interface`), which CfnInclude copies as they are. CfnInclude keeps
 * the template's sections in a field of its own; without the groups nothing breaks but
 * cfn-lint's W4001.
 */
function forgetReplacedParameters(include: cfninc.CfnInclude, replaced: string[]) {
  const sections = (include as unknown as { template?: { Metadata?: Record<string, unknown> } }).template;
  const groups = (sections?.Metadata?.['AWS::CloudFormation::Interface'] as { ParameterGroups?: Array<{ Parameters?: string[] }> })
    ?.ParameterGroups;
  for (const group of groups ?? []) {
    group.Parameters = group.Parameters?.filter((name) => !replaced.includes(name));
  }
}

/** A CDK L1 value back in CloudFormation's spelling (keys in PascalCase). */
function pascalCase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pascalCase);
  if (value === null || typeof value !== 'object' || cdk.Token.isUnresolved(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [key[0].toUpperCase() + key.slice(1), pascalCase(child)]),
  );
}
