export * from './ecs-srv';
