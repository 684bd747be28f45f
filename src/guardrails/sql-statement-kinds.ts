/**
 * The statement kinds an SQL rule can deny, as the keywords a user types (DROP, TRUNCATE, …),
 * derived from the parser's statement node types: the table below must name every `…Stmt` node
 * type of the libpg-query version in use (the type checker enforces it), so a parser upgrade that
 * adds a statement cannot leave it unclassified.
 */
import type { Node } from 'libpg-query';

type KeysOfUnion<T> = T extends unknown ? keyof T : never;
type NodeType = KeysOfUnion<Node>;
type StatementNodeType = Extract<NodeType, `${string}Stmt`>;
type NodeOf<K extends NodeType> = Extract<Node, Record<K, unknown>>[K];

/** A node type whose kind depends on its fields: every kind it can give, and how it picks. */
interface Choice<K extends StatementNodeType> {
  kinds: readonly string[];
  pick(node: NodeOf<K>): readonly string[];
}

/** null: not a statement of its own (a wrapper, or a part of another statement). */
type Classifier<K extends StatementNodeType> = string | null | Choice<K>;

const grantOrRevoke = (isGrant: boolean | undefined): string => (isGrant ? 'GRANT' : 'REVOKE');

const TRANSACTION_KINDS = {
  TRANS_STMT_BEGIN: 'BEGIN',
  TRANS_STMT_START: 'BEGIN',
  TRANS_STMT_COMMIT: 'COMMIT',
  TRANS_STMT_ROLLBACK: 'ROLLBACK',
  TRANS_STMT_SAVEPOINT: 'SAVEPOINT',
  TRANS_STMT_RELEASE: 'RELEASE',
  TRANS_STMT_ROLLBACK_TO: 'ROLLBACK',
  TRANS_STMT_PREPARE: 'PREPARE TRANSACTION',
  TRANS_STMT_COMMIT_PREPARED: 'COMMIT PREPARED',
  TRANS_STMT_ROLLBACK_PREPARED: 'ROLLBACK PREPARED',
} as const;

const CLASSIFIERS: { [K in StatementNodeType]: Classifier<K> } = {
  RawStmt: null,
  SetOperationStmt: null,
  ReturnStmt: null,
  PLAssignStmt: null,
  ReplicaIdentityStmt: null,
  InsertStmt: 'INSERT',
  DeleteStmt: 'DELETE',
  UpdateStmt: 'UPDATE',
  MergeStmt: 'MERGE',
  SelectStmt: {
    kinds: ['SELECT', 'VALUES', 'CREATE'],
    // `SELECT … INTO t` creates a table, like CREATE TABLE AS.
    pick: (node) => [node.valuesLists?.length ? 'VALUES' : 'SELECT', ...(node.intoClause ? ['CREATE'] : [])],
  },
  CreateSchemaStmt: 'CREATE',
  AlterTableStmt: 'ALTER',
  AlterCollationStmt: 'ALTER',
  AlterDomainStmt: 'ALTER',
  GrantStmt: { kinds: ['GRANT', 'REVOKE'], pick: (node) => [grantOrRevoke(node.is_grant)] },
  GrantRoleStmt: { kinds: ['GRANT', 'REVOKE'], pick: (node) => [grantOrRevoke(node.is_grant)] },
  AlterDefaultPrivilegesStmt: {
    kinds: ['ALTER', 'GRANT', 'REVOKE'],
    pick: (node) => ['ALTER', grantOrRevoke(node.action?.is_grant)],
  },
  CopyStmt: 'COPY',
  VariableSetStmt: {
    kinds: ['SET', 'RESET'],
    pick: (node) => [node.kind === 'VAR_RESET' || node.kind === 'VAR_RESET_ALL' ? 'RESET' : 'SET'],
  },
  VariableShowStmt: 'SHOW',
  CreateStmt: 'CREATE',
  CreateTableSpaceStmt: 'CREATE',
  DropTableSpaceStmt: 'DROP',
  AlterTableSpaceOptionsStmt: 'ALTER',
  AlterTableMoveAllStmt: 'ALTER',
  CreateExtensionStmt: 'CREATE',
  AlterExtensionStmt: 'ALTER',
  AlterExtensionContentsStmt: 'ALTER',
  CreateFdwStmt: 'CREATE',
  AlterFdwStmt: 'ALTER',
  CreateForeignServerStmt: 'CREATE',
  AlterForeignServerStmt: 'ALTER',
  CreateForeignTableStmt: 'CREATE',
  CreateUserMappingStmt: 'CREATE',
  AlterUserMappingStmt: 'ALTER',
  DropUserMappingStmt: 'DROP',
  ImportForeignSchemaStmt: 'IMPORT',
  CreatePolicyStmt: 'CREATE',
  AlterPolicyStmt: 'ALTER',
  CreateAmStmt: 'CREATE',
  CreateTrigStmt: 'CREATE',
  CreateEventTrigStmt: 'CREATE',
  AlterEventTrigStmt: 'ALTER',
  CreatePLangStmt: 'CREATE',
  CreateRoleStmt: 'CREATE',
  AlterRoleStmt: 'ALTER',
  AlterRoleSetStmt: 'ALTER',
  DropRoleStmt: 'DROP',
  CreateSeqStmt: 'CREATE',
  AlterSeqStmt: 'ALTER',
  DefineStmt: 'CREATE',
  CreateDomainStmt: 'CREATE',
  CreateOpClassStmt: 'CREATE',
  CreateOpFamilyStmt: 'CREATE',
  AlterOpFamilyStmt: 'ALTER',
  DropStmt: 'DROP',
  TruncateStmt: 'TRUNCATE',
  CommentStmt: 'COMMENT',
  SecLabelStmt: 'SECURITY LABEL',
  DeclareCursorStmt: 'DECLARE',
  ClosePortalStmt: 'CLOSE',
  FetchStmt: { kinds: ['FETCH', 'MOVE'], pick: (node) => [node.ismove ? 'MOVE' : 'FETCH'] },
  IndexStmt: 'CREATE',
  CreateStatsStmt: 'CREATE',
  AlterStatsStmt: 'ALTER',
  CreateFunctionStmt: 'CREATE',
  AlterFunctionStmt: 'ALTER',
  DoStmt: 'DO',
  CallStmt: 'CALL',
  RenameStmt: 'ALTER',
  AlterObjectDependsStmt: 'ALTER',
  AlterObjectSchemaStmt: 'ALTER',
  AlterOwnerStmt: 'ALTER',
  AlterOperatorStmt: 'ALTER',
  AlterTypeStmt: 'ALTER',
  RuleStmt: 'CREATE',
  NotifyStmt: 'NOTIFY',
  ListenStmt: 'LISTEN',
  UnlistenStmt: 'UNLISTEN',
  TransactionStmt: {
    kinds: Object.values(TRANSACTION_KINDS),
    pick: (node) => [TRANSACTION_KINDS[node.kind ?? 'TRANS_STMT_BEGIN']],
  },
  CompositeTypeStmt: 'CREATE',
  CreateEnumStmt: 'CREATE',
  CreateRangeStmt: 'CREATE',
  AlterEnumStmt: 'ALTER',
  ViewStmt: 'CREATE',
  LoadStmt: 'LOAD',
  CreatedbStmt: 'CREATE',
  AlterDatabaseStmt: 'ALTER',
  AlterDatabaseRefreshCollStmt: 'ALTER',
  AlterDatabaseSetStmt: 'ALTER',
  DropdbStmt: 'DROP',
  AlterSystemStmt: 'ALTER',
  ClusterStmt: 'CLUSTER',
  VacuumStmt: { kinds: ['VACUUM', 'ANALYZE'], pick: (node) => [node.is_vacuumcmd ? 'VACUUM' : 'ANALYZE'] },
  ExplainStmt: 'EXPLAIN',
  CreateTableAsStmt: 'CREATE',
  RefreshMatViewStmt: 'REFRESH',
  CheckPointStmt: 'CHECKPOINT',
  DiscardStmt: 'DISCARD',
  LockStmt: 'LOCK',
  ConstraintsSetStmt: 'SET',
  ReindexStmt: 'REINDEX',
  CreateConversionStmt: 'CREATE',
  CreateCastStmt: 'CREATE',
  CreateTransformStmt: 'CREATE',
  PrepareStmt: 'PREPARE',
  ExecuteStmt: 'EXECUTE',
  DeallocateStmt: 'DEALLOCATE',
  DropOwnedStmt: 'DROP',
  ReassignOwnedStmt: 'REASSIGN',
  AlterTSDictionaryStmt: 'ALTER',
  AlterTSConfigurationStmt: 'ALTER',
  CreatePublicationStmt: 'CREATE',
  AlterPublicationStmt: 'ALTER',
  CreateSubscriptionStmt: 'CREATE',
  AlterSubscriptionStmt: 'ALTER',
  DropSubscriptionStmt: 'DROP',
};

const CLASSIFIER_BY_TYPE: ReadonlyMap<string, Classifier<StatementNodeType>> = new Map(Object.entries(CLASSIFIERS));

/** Every kind `deny_statements` accepts, sorted. */
export const SQL_STATEMENT_KINDS: readonly string[] = [
  ...new Set([...CLASSIFIER_BY_TYPE.values()].flatMap((c) => (c === null ? [] : typeof c === 'string' ? [c] : c.kinds))),
].sort();

const KNOWN_KINDS = new Set(SQL_STATEMENT_KINDS);

/** The canonical spelling of a kind as a user wrote it (any case, any spacing), or undefined. */
export function canonicalStatementKind(text: string): string | undefined {
  const kind = text.trim().replace(/\s+/g, ' ').toUpperCase();
  return KNOWN_KINDS.has(kind) ? kind : undefined;
}

/** The kinds of a parse-tree node `{ [nodeType]: node }`; empty when it is not a statement. */
export function statementKinds(nodeType: string, node: unknown): readonly string[] {
  const classifier = CLASSIFIER_BY_TYPE.get(nodeType);
  if (classifier === undefined || classifier === null) return [];
  if (typeof classifier === 'string') return [classifier];
  return (classifier.pick as (node: unknown) => readonly string[])(node);
}
